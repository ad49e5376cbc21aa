package kit

import "fmt"

// Steps lets a test fail a long act (one transaction of many statements)
// between its steps, to prove that a failure midway leaves nothing done.
// Its zero value hears nothing.
type Steps struct{ hook func(step string) error }

// Hook makes fn hear each step the act reaches, and fail it by returning
// an error, until the returned function is called.
func (s *Steps) Hook(fn func(step string) error) (restore func()) {
	s.hook = fn
	return func() { s.hook = nil }
}

// Reach is called by the act as it reaches step: the hook's error, naming
// the step, or nil.
func (s *Steps) Reach(step string) error {
	if s.hook == nil {
		return nil
	}
	if err := s.hook(step); err != nil {
		return fmt.Errorf("at %s: %w", step, err)
	}
	return nil
}
