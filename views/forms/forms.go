// Package forms holds the console's forms, one struct per form. The tags
// name the inputs: `form` for a form body, `query` for a form sent with GET,
// so that handlers bind a request with echo's binder and views render the
// struct back as it was submitted. The package knows nothing of the stores:
// what a value may be is for the models to say; a form checks here only
// what it can tell from its own fields (see Validate).
package forms

import (
	"strconv"
	"strings"
	"time"
)

// Errors say what is wrong with a submitted form: a message per field, by
// the name of its input, and Form about the form as a whole (wrong
// credentials, a save that came too late).
type Errors struct {
	Fields map[string]string
	Form   string
}

// Of is the message of the input named name, "" when it has none.
func (e Errors) Of(name string) string { return e.Fields[name] }

// Any reports whether anything is wrong.
func (e Errors) Any() bool { return len(e.Fields) > 0 || e.Form != "" }

// Add gives the input named name the message msg. An empty msg adds
// nothing, and a field keeps the first message it was given.
func (e *Errors) Add(name, msg string) {
	if msg == "" || e.Of(name) != "" {
		return
	}
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	e.Fields[name] = msg
}

// Merge adds messages by input name, such as a store's validation errors.
func (e *Errors) Merge(fields map[string]string) {
	for name, msg := range fields {
		e.Add(name, msg)
	}
}

// A Checkbox is on when the form sends it with the value "on", which is
// what every checkbox of the console sends when it is checked.
type Checkbox bool

// UnmarshalParam reads the submitted value (echo's binder calls it).
func (b *Checkbox) UnmarshalParam(s string) error {
	*b = s == "on"
	return nil
}

// On reports whether the box is checked.
func (b Checkbox) On() bool { return bool(b) }

// Int is a whole-number input. Binding it never fails: a value that is not
// a whole number is kept as sent, for the form to show again, and Problem
// says what is wrong with it (N is then 0). An empty value is 0.
type Int struct {
	N int
	// Text is the value as submitted, "" when the form did not send one.
	Text string
	bad  bool
}

// IntOf is an Int holding n, as a form shows a saved number.
func IntOf(n int) Int { return Int{N: n} }

// UnmarshalParam reads the submitted value (echo's binder calls it).
func (i *Int) UnmarshalParam(s string) error {
	*i = Int{Text: s}
	if t := strings.TrimSpace(s); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			i.bad = true
			return nil
		}
		i.N = n
	}
	return nil
}

// String is the input's value: as submitted, or the number.
func (i Int) String() string {
	if i.Text != "" {
		return i.Text
	}
	return strconv.Itoa(i.N)
}

// Problem says why the value is not a whole number; "" when it is one.
func (i Int) Problem() string {
	if i.bad {
		return "Enter a whole number."
	}
	return ""
}

// dayLayout is how a day is written, as an <input type=date> sends it.
const dayLayout = "2006-01-02"

// Day is a date input. Like Int, binding it never fails: Problem says what
// is wrong with a value that is not a day.
type Day struct {
	// Text is the value as submitted.
	Text string
	t    time.Time
}

// UnmarshalParam reads the submitted value (echo's binder calls it).
func (d *Day) UnmarshalParam(s string) error {
	*d = Day{Text: s}
	d.t, _ = time.Parse(dayLayout, strings.TrimSpace(s))
	return nil
}

// Time is the day's midnight UTC, and false when no day was given or the
// value is not one.
func (d Day) Time() (time.Time, bool) { return d.t, !d.t.IsZero() }

// String is the day as written in a link, "" when there is none.
func (d Day) String() string {
	if d.t.IsZero() {
		return ""
	}
	return d.t.Format(dayLayout)
}

// Problem says why the value is not a day; "" when it is one or is empty.
func (d Day) Problem() string {
	if strings.TrimSpace(d.Text) != "" && d.t.IsZero() {
		return "Enter a day as YYYY-MM-DD, e.g. 2026-03-01."
	}
	return ""
}
