package promote

// SetHook makes fn hear of (and possibly fail) each step of a promotion
// until the returned function is called.
func SetHook(fn func(step string) error) (restore func()) {
	return steps.Hook(fn)
}
