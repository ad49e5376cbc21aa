package forms

import (
	"testing"
	"time"
)

func TestErrors(t *testing.T) {
	var e Errors
	if e.Any() || e.Of("name") != "" {
		t.Fatal("a new Errors has errors")
	}
	e.Add("name", "")
	if e.Any() {
		t.Error("an empty message counts")
	}
	e.Add("name", "first")
	e.Merge(map[string]string{"name": "second", "email": "bad"})
	if e.Of("name") != "first" || e.Of("email") != "bad" || !e.Any() {
		t.Errorf("errors %+v", e)
	}
	if !(Errors{Form: "wrong"}).Any() {
		t.Error("a form-wide message does not count")
	}
}

func TestTypedFields(t *testing.T) {
	for _, c := range []struct {
		in      string
		n       int
		problem bool
	}{{"42", 42, false}, {" 7 ", 7, false}, {"", 0, false}, {"-3", -3, false}, {"4.5", 0, true}, {"seven", 0, true}, {"99999999999999999999", 0, true}} {
		var i Int
		if err := i.UnmarshalParam(c.in); err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		if (c.problem && i.N != 0) || (!c.problem && i.N != c.n) || (i.Problem() != "") != c.problem || i.String() != c.in && c.in != "" {
			t.Errorf("Int %q: %+v, problem %q", c.in, i, i.Problem())
		}
	}
	if IntOf(3).String() != "3" {
		t.Errorf("IntOf(3) shows %q", IntOf(3).String())
	}

	var d Day
	_ = d.UnmarshalParam("2026-03-01")
	if tm, ok := d.Time(); !ok || !tm.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || d.Problem() != "" || d.String() != "2026-03-01" {
		t.Errorf("a day: %+v", d)
	}
	for _, bad := range []string{"yesterday", "2026-02-30", "1/3/2026"} {
		_ = d.UnmarshalParam(bad)
		if _, ok := d.Time(); ok || d.Problem() == "" || d.String() != "" || d.Text != bad {
			t.Errorf("%q: %+v", bad, d)
		}
	}
	_ = d.UnmarshalParam("")
	if _, ok := d.Time(); ok || d.Problem() != "" {
		t.Errorf("no day: %+v", d)
	}

	var b Checkbox
	for in, want := range map[string]bool{"on": true, "": false, "true": false, "off": false} {
		_ = b.UnmarshalParam(in)
		if b.On() != want {
			t.Errorf("checkbox %q: %v", in, b.On())
		}
	}
}
