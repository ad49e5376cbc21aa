package views

import (
	"strings"

	"github.com/a-h/templ"
)

// FieldVM describes one labelled control: a text input (Field), a textarea
// (Textarea), a select (Select) or a checkbox (Checkbox). Each component
// uses the parts that apply to it.
type FieldVM struct {
	Name  string
	Label string
	// Note is a short aside after the label, e.g. "(optional)".
	Note         string
	Type         string
	Value        string
	Err          string
	Autocomplete string
	Hint         string
	// HintTestID names the hint for tests; HintWarn shows it as a warning.
	HintTestID string
	HintWarn   bool
	MaxLength  int
	Required   bool
	Autofocus  bool
	// ElemID is the control's id when it is not "f-" + Name (two forms on a
	// page that share a name).
	ElemID string
	// TestID is the control's own data-testid.
	TestID      string
	Placeholder string
	// HideLabel keeps the label for screen readers only, where the layout
	// (a row of a grid) makes the placeholder name the column.
	HideLabel bool
	// DescribedBy is the id of another element that describes the control,
	// e.g. an alert about the whole form.
	DescribedBy string
	// Class adds classes to the control, Wrap to the element around it.
	Class string
	Wrap  string
	// Attrs are more attributes of the control (spellcheck, list, ...).
	Attrs templ.Attributes
	// Rows is a textarea's height in lines.
	Rows int
	// Options are a select's choices; Blank, when set, labels a first
	// choice of "".
	Options []Option
	Blank   string
	// Checked and Disabled are a checkbox's state.
	Checked  bool
	Disabled bool
}

// ID is the control's element id.
func (f FieldVM) ID() string {
	if f.ElemID != "" {
		return f.ElemID
	}
	return "f-" + f.Name
}

func (f FieldVM) errID() string  { return f.ID() + "-err" }
func (f FieldVM) hintID() string { return f.ID() + "-hint" }

// showHint reports whether the hint shows: an error takes its place, except
// a warning hint, which stays.
func (f FieldVM) showHint() bool { return f.Hint != "" && (f.Err == "" || f.HintWarn) }

// describedBy lists the ids of what describes the control: its error, its
// hint and any other element named by DescribedBy.
func (f FieldVM) describedBy() string {
	var ids []string
	if f.Err != "" {
		ids = append(ids, f.errID())
	}
	if f.showHint() {
		ids = append(ids, f.hintID())
	}
	if f.DescribedBy != "" {
		ids = append(ids, f.DescribedBy)
	}
	return strings.Join(ids, " ")
}

// controlAttrs are the attributes every kind of control shares: what ties
// it to its label, error and hint, and the optional ones that are set.
func (f FieldVM) controlAttrs() templ.Attributes {
	a := templ.Attributes{"id": f.ID(), "name": f.Name}
	if f.Err != "" {
		a["aria-invalid"] = "true"
	}
	if d := f.describedBy(); d != "" {
		a["aria-describedby"] = d
	}
	if f.TestID != "" {
		a["data-testid"] = f.TestID
	}
	if f.Autocomplete != "" {
		a["autocomplete"] = f.Autocomplete
	}
	if f.Placeholder != "" {
		a["placeholder"] = f.Placeholder
	}
	if f.Required {
		a["required"] = true
	}
	if f.Autofocus {
		a["autofocus"] = true
	}
	if f.Disabled {
		a["disabled"] = true
	}
	for k, v := range f.Attrs {
		a[k] = v
	}
	return a
}

// checkboxValue is what a checked box sends: "on" unless Value says.
func (f FieldVM) checkboxValue() string {
	if f.Value == "" {
		return "on"
	}
	return f.Value
}

// CheckboxGroupVM is a set of checkboxes sharing a name, in a fieldset whose
// legend names them.
type CheckboxGroupVM struct {
	Legend  string
	Name    string
	Options []Option
	// Checked holds the values that are checked.
	Checked  []string
	Disabled bool
	Hint     string
	Err      string
	// TestID names the group; ItemTestID prefixes each box's value.
	TestID     string
	ItemTestID string
}

// item is the view model of the group's checkbox for o.
func (g CheckboxGroupVM) item(o Option) FieldVM {
	f := FieldVM{
		Name: g.Name, ElemID: "f-" + g.Name + "-" + o.Value, Label: o.Label, Value: o.Value,
		Disabled: g.Disabled, TestID: g.ItemTestID + o.Value,
	}
	for _, c := range g.Checked {
		f.Checked = f.Checked || c == o.Value
	}
	if g.Err != "" {
		f.DescribedBy = "f-" + g.Name + "-err"
	}
	return f
}

// AlertKind is what an alert says: its colour and how urgently a screen
// reader announces it.
type AlertKind string

const (
	AlertInfo    AlertKind = "info"
	AlertSuccess AlertKind = "success"
	AlertWarning AlertKind = "warning"
	AlertError   AlertKind = "error"
)

// role is the alert's ARIA role: news is announced politely (status),
// warnings and errors at once (alert).
func (k AlertKind) role() string {
	if k == AlertWarning || k == AlertError {
		return "alert"
	}
	return "status"
}

// AlertVM places an alert: its kind, and optionally an id, a test id, more
// classes, and whether it starts hidden (for one a script fills in).
type AlertVM struct {
	Kind   AlertKind
	ID     string
	TestID string
	Class  string
	Hidden bool
}

// ConfirmVM is a button that acts only once the user confirms.
type ConfirmVM struct {
	// Label is the visible text, e.g. "Remove"; Name the accessible name
	// that says what it acts on, e.g. "Remove alice@example.org".
	Label string
	Name  string
	// Question is what the browser asks before the htmx request.
	Question string
	// URL is where the action posts. With Page set, the control is a link
	// to Page, a page that asks before acting, for browsers without
	// JavaScript; without it, a form that posts to URL with CSRF.
	URL  string
	Page string
	CSRF string
	// Target and Swap place htmx's answer.
	Target string
	Swap   string
	// Class is the button style, e.g. "btn-danger" or "link-danger".
	Class  string
	TestID string
}

// htmxAttrs are the attributes that make the control post with htmx after
// the question.
func (c ConfirmVM) htmxAttrs() templ.Attributes {
	a := templ.Attributes{"hx-post": c.URL, "hx-confirm": c.Question}
	if c.Target != "" {
		a["hx-target"] = c.Target
	}
	if c.Swap != "" {
		a["hx-swap"] = c.Swap
	}
	return a
}

// EmptyVM is what a list shows when it has nothing, with an optional link
// to the first step.
type EmptyVM struct {
	TestID      string
	Message     string
	ActionLabel string
	ActionURL   string
}

// TableVM heads a table: its accessible name (Label), its columns, and
// whether a last column holds per-row actions, whose header only screen
// readers read.
type TableVM struct {
	Label   string
	TestID  string
	Columns []string
	Actions bool
	// Compact narrows the cells' padding.
	Compact bool
	// BodyClass adds classes to the table body, e.g. "align-top".
	BodyClass string
}

// cellPad is the padding of the table's header cells, which its rows match.
func (t TableVM) cellPad() string {
	if t.Compact {
		return "px-3 py-2"
	}
	return "px-4 py-2"
}

// CopyVM is a read-only value with a button that copies it.
type CopyVM struct {
	ID    string
	Label string
	// HideLabel keeps the label for screen readers only.
	HideLabel bool
	Value     string
	TestID    string
	// CopyTestID names the copy button for tests.
	CopyTestID string
}

// optionsOf are choices each labelled by its value.
func optionsOf(values []string) []Option {
	out := make([]Option, len(values))
	for i, v := range values {
		out[i] = Option{Value: v, Label: v}
	}
	return out
}

// TypedConfirm is the field of a dangerous act that its author confirms by
// typing a name (a project's, an account's email): named "confirm", never
// autocompleted, required. f gives its label, value, error and ids.
func TypedConfirm(f FieldVM) templ.Component {
	f.Name, f.Type, f.Autocomplete, f.Required = "confirm", "text", "off", true
	return Field(f)
}
