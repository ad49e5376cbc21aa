package accounts

import "time"

// SetThrottleClock makes the throttle read the time from clock until the
// returned function restores it.
func SetThrottleClock(clock func() time.Time) (restore func()) {
	old := throttleClock
	throttleClock = clock
	return func() { throttleClock = old }
}
