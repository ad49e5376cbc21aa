package forms

import (
	"net/url"
	"strconv"
	"strings"
)

// Policy creates or edits an access policy. Its rules are rows of inputs
// named by RuleInput, which echo's binder does not read: ReadRules does.
type Policy struct {
	Name string `form:"name"`
	// Rows is how many rule rows the form had.
	Rows Int `form:"rows"`
	// Action is AddRule when the form asks for one more rule row instead
	// of a save.
	Action string `form:"action"`
	Rules  []Rule
}

// AddRule is Policy.Action on the button that adds a rule row.
const AddRule = "add-rule"

// Rule is one row of the rule editor.
type Rule struct {
	ResourceType string
	ReadOnly     Checkbox
	Criteria     string
	// HiddenFields are field names, comma-separated.
	HiddenFields string
}

// RuleInput is the name of a field's input in rule row i, e.g.
// rules.0.resourceType.
func RuleInput(i int, field string) string { return "rules." + strconv.Itoa(i) + "." + field }

// ReadRules reads the rule rows from the submitted form: the first Rows
// rows, and at most limit of them, trimmed, leaving out blank rows.
func (f *Policy) ReadRules(form url.Values, limit int) {
	f.Rules = nil
	for i := range min(max(f.Rows.N, 0), limit) {
		value := func(field string) string { return strings.TrimSpace(form.Get(RuleInput(i, field))) }
		var r Rule
		_ = r.ReadOnly.UnmarshalParam(value("readonly"))
		r.ResourceType, r.Criteria, r.HiddenFields = value("resourceType"), value("criteria"), value("hiddenFields")
		if r != (Rule{}) {
			f.Rules = append(f.Rules, r)
		}
	}
}

// Validate reports a row count that is not a number: the form is damaged.
func (f Policy) Validate() Errors {
	var e Errors
	if f.Rows.Problem() != "" {
		e.Add("rows", "This form is damaged: its number of rules is not a number. Reload the page, then make your change again.")
	}
	return e
}
