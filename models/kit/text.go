package kit

// Quote puts s in curly quotes, as messages name what the user typed.
func Quote(s string) string { return "\u201c" + s + "\u201d" }

// Deref is *s, or "" for nil.
func Deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
