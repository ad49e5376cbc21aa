package forms

import "strings"

// Compare picks the two projects to compare: the dashboard's A and B (each
// an id or an exact name), or the console's With (the other project's id;
// the first is the page's own).
type Compare struct {
	A    string `query:"a"`
	B    string `query:"b"`
	With string `query:"with"`
}

// Picked reports whether the form names the projects to compare.
func (f Compare) Picked() bool {
	return strings.TrimSpace(f.With) != "" || strings.TrimSpace(f.A) != "" || strings.TrimSpace(f.B) != ""
}

// The directions of a promotion.
const (
	AToB = "a-b"
	BToA = "b-a"
)

// Promote is a promotion: the compared projects (as the compare form named
// them), which way, the chosen items (their keys), and the target's name
// typed to confirm.
type Promote struct {
	A         string   `form:"a"`
	B         string   `form:"b"`
	With      string   `form:"with"`
	Direction string   `form:"direction"`
	Items     []string `form:"items"`
	Confirm   string   `form:"confirm"`
}

// Validate checks the direction.
func (f Promote) Validate() Errors {
	var e Errors
	if f.Direction != AToB && f.Direction != BToA {
		e.Add("direction", "Choose which way to promote.")
	}
	return e
}

// Reversed reports whether the promotion goes from B to A.
func (f Promote) Reversed() bool { return f.Direction == BToA }
