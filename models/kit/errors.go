package kit

import (
	"errors"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// ErrNotFound means the row does not exist, or is not visible from the store
// that asked (another project's data is reported the same way).
var ErrNotFound = errors.New("not found")

// ErrConflict means the write clashes with data that is already there.
var ErrConflict = errors.New("conflict")

// ValidationError carries one message per form field. Messages are safe to
// show to the user.
type ValidationError struct {
	Fields map[string]string
}

func (e *ValidationError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+e.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Add records a message for field, keeping the first one given.
func (e *ValidationError) Add(field, msg string) {
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	if _, ok := e.Fields[field]; !ok {
		e.Fields[field] = msg
	}
}

// Err returns e when it holds any message, and nil otherwise.
func (e *ValidationError) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

// FieldErrors extracts the per-field messages of err, if it is a validation error.
func FieldErrors(err error) map[string]string {
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Fields
	}
	return nil
}

// ErrForbidden means the caller may not make this change.
var ErrForbidden = errors.New("forbidden")

// ErrStale means the row changed since the form that edits it was loaded:
// one person would silently overwrite another's change.
var ErrStale = errors.New("changed by someone else since it was loaded")

// NotFound turns GORM's missing-row error into ErrNotFound.
func NotFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

// IsUniqueViolation reports whether err is a unique constraint refusing a
// write, on either database.
func IsUniqueViolation(err error) bool {
	msg := err.Error()
	return errors.Is(err, gorm.ErrDuplicatedKey) ||
		strings.Contains(msg, "UNIQUE constraint failed") ||
		strings.Contains(msg, "duplicate key value violates unique constraint")
}
