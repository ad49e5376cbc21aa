package kit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// HasNUL reports whether any key or string in a decoded JSON value holds a
// NUL character, which PostgreSQL cannot store in text.
func HasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || HasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if HasNUL(e) {
				return true
			}
		}
	}
	return false
}

// JSONProblem describes a JSON syntax error without echoing the body.
func JSONProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("unexpected %s at byte %d", te.Value, te.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed input"
}
