package views_test

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"enclave/views"
	"enclave/views/forms"
)

// render renders c and parses the HTML.
func render(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var b strings.Builder
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc
}

// byID finds the element whose id is id (ids may hold dots, which a CSS
// selector would read as classes).
func byID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find("[id]").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.AttrOr("id", "") == id })
}

// checkWiring fails for every control of doc that a screen reader could not
// name or whose description points at nothing, for every table header
// without a scope and every table without a name: the rules the kit keeps
// on every page.
func checkWiring(t *testing.T, what string, doc *goquery.Document) {
	t.Helper()
	doc.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("type", "") == "hidden" || s.Is("[hidden]") {
			return
		}
		html, _ := goquery.OuterHtml(s)
		id := s.AttrOr("id", "")
		_, named := s.Attr("aria-label")
		if id == "" && !named {
			t.Errorf("%s: control without id or aria-label: %s", what, html)
		}
		if id != "" && !named {
			labels := doc.Find("label").FilterFunction(func(_ int, l *goquery.Selection) bool { return l.AttrOr("for", "") == id })
			if labels.Length() != 1 || strings.TrimSpace(labels.Text()) == "" {
				t.Errorf("%s: %d labels for #%s: %s", what, labels.Length(), id, html)
			}
		}
		if d, ok := s.Attr("aria-describedby"); ok {
			for _, ref := range strings.Fields(d) {
				if byID(doc, ref).Length() != 1 {
					t.Errorf("%s: #%s is described by #%s, which is not on the page", what, id, ref)
				}
			}
		}
		if s.AttrOr("aria-invalid", "") == "true" && s.AttrOr("aria-describedby", "") == "" {
			t.Errorf("%s: #%s is invalid but nothing says why", what, id)
		}
	})
	doc.Find("th").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("scope", "") != "col" && s.AttrOr("scope", "") != "row" {
			t.Errorf("%s: header %q has no scope", what, s.Text())
		}
		if strings.TrimSpace(s.Text()) == "" {
			t.Errorf("%s: a header cell is empty", what)
		}
	})
	doc.Find("table").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("aria-label", "") == "" && s.Find("caption").Length() == 0 {
			t.Errorf("%s: table %q has no name", what, s.AttrOr("data-testid", ""))
		}
	})
}

func TestControlsWireLabelErrorAndHint(t *testing.T) {
	f := views.FieldVM{Name: "email", Label: "Email", Type: "email", Err: "Enter an email address.", Hint: "Work address", HintWarn: true, Required: true}
	sel := f
	sel.Options = []views.Option{{Value: "a", Label: "A"}, {Value: "b", Label: "B"}}
	sel.Value = "b"
	for name, c := range map[string]templ.Component{
		"field":    views.Field(f),
		"textarea": views.Textarea(f),
		"select":   views.Select(sel),
		"checkbox": views.Checkbox(f),
	} {
		t.Run(name, func(t *testing.T) {
			doc := render(t, c)
			checkWiring(t, name, doc)
			control := doc.Find("#f-email")
			if control.Length() != 1 {
				t.Fatalf("no control with the id the label names")
			}
			if got := doc.Find("label").AttrOr("for", ""); got != "f-email" {
				t.Errorf("label for %q", got)
			}
			if control.AttrOr("aria-invalid", "") != "true" {
				t.Errorf("aria-invalid %q", control.AttrOr("aria-invalid", ""))
			}
			var texts []string
			for _, id := range strings.Fields(control.AttrOr("aria-describedby", "")) {
				texts = append(texts, strings.TrimSpace(byID(doc, id).Text()))
			}
			if !strings.Contains(strings.Join(texts, "|"), "Enter an email address.") {
				t.Errorf("aria-describedby does not reach the error: %q", texts)
			}
			if name != "checkbox" && !strings.Contains(strings.Join(texts, "|"), "Work address") {
				t.Errorf("aria-describedby does not reach the hint: %q", texts)
			}
			if doc.Find(`[data-testid="error-email"]`).Length() != 1 {
				t.Error("no inline error")
			}
			if name != "checkbox" {
				if _, ok := control.Attr("required"); !ok || !strings.Contains(doc.Find("label").Text(), "*") {
					t.Error("a required control is neither marked nor required")
				}
			}
			if name == "select" && control.Find("option[selected]").AttrOr("value", "") != "b" {
				t.Error("the value's option is not selected")
			}
		})
	}
}

func TestValidControlIsNotInvalid(t *testing.T) {
	doc := render(t, views.Field(views.FieldVM{Name: "name", Label: "Name", Type: "text"}))
	checkWiring(t, "field", doc)
	in := doc.Find("#f-name")
	if _, ok := in.Attr("aria-invalid"); ok {
		t.Error("aria-invalid on a valid input")
	}
	if _, ok := in.Attr("aria-describedby"); ok {
		t.Error("aria-describedby without a hint or an error")
	}
}

func TestCheckboxGroupHasLegendAndLabels(t *testing.T) {
	doc := render(t, views.CheckboxGroup(views.CheckboxGroupVM{
		Legend: "Features", Name: "features", Options: []views.Option{{Value: "bots", Label: "bots"}, {Value: "email", Label: "email"}},
		Checked: []string{"email"}, Err: "Unknown feature.", TestID: "features", ItemTestID: "feature-",
	}))
	checkWiring(t, "group", doc)
	if got := strings.TrimSpace(doc.Find("fieldset > legend").Text()); got != "Features" {
		t.Errorf("legend %q", got)
	}
	boxes := doc.Find(`fieldset input[type="checkbox"][name="features"]`)
	if boxes.Length() != 2 {
		t.Fatalf("%d checkboxes", boxes.Length())
	}
	if _, ok := doc.Find(`[data-testid="feature-email"]`).Attr("checked"); !ok {
		t.Error("the checked value's box is not checked")
	}
	if _, ok := doc.Find(`[data-testid="feature-bots"]`).Attr("checked"); ok {
		t.Error("an unchecked value's box is checked")
	}
}

func TestAlertRolePerKind(t *testing.T) {
	for kind, role := range map[views.AlertKind]string{
		views.AlertInfo: "status", views.AlertSuccess: "status", views.AlertWarning: "alert", views.AlertError: "alert",
	} {
		doc := render(t, views.Alert(views.AlertVM{Kind: kind, TestID: "a"}))
		box := doc.Find(`[data-testid="a"]`)
		if got := box.AttrOr("role", ""); got != role {
			t.Errorf("%s: role %q, want %q", kind, got, role)
		}
		if !box.HasClass("alert-" + string(kind)) {
			t.Errorf("%s: no alert-%s colour", kind, kind)
		}
	}
	if got := render(t, views.Notice("Saved.")).Find(`[data-testid="notice"]`).AttrOr("role", ""); got != "status" {
		t.Errorf("notice role %q", got)
	}
	if got := render(t, views.FormError("Failed.")).Find(`[data-testid="form-error"]`).AttrOr("role", ""); got != "alert" {
		t.Errorf("form error role %q", got)
	}
}

func TestTableHeadersAndActionColumn(t *testing.T) {
	doc := render(t, views.Table(views.TableVM{Label: "Members", TestID: "member-list", Columns: []string{"Name", "Email"}, Actions: true}))
	checkWiring(t, "table", doc)
	if got := doc.Find("table").AttrOr("aria-label", ""); got != "Members" {
		t.Errorf("table name %q", got)
	}
	if doc.Find(`.table-scroll table`).Length() != 1 {
		t.Error("the table is not in its scrolling frame")
	}
	last := doc.Find("thead th").Last()
	if got := strings.TrimSpace(last.Find(".sr-only").Text()); got != "Actions" {
		t.Errorf("action column header %q, want screen-reader-only Actions", got)
	}
}

func TestConfirmButton(t *testing.T) {
	withPage := render(t, views.ConfirmButton(views.ConfirmVM{
		Label: "Remove", Name: "Remove alice@example.org", Question: "Remove Alice?", URL: "/x/remove", Page: "/x/remove", Class: "link-danger", TestID: "remove",
	}))
	link := withPage.Find(`a[data-testid="remove"]`)
	if link.AttrOr("aria-label", "") != "Remove alice@example.org" || link.AttrOr("hx-confirm", "") != "Remove Alice?" || link.AttrOr("hx-post", "") != "/x/remove" {
		t.Errorf("link: name %q, confirm %q, post %q", link.AttrOr("aria-label", ""), link.AttrOr("hx-confirm", ""), link.AttrOr("hx-post", ""))
	}
	if link.AttrOr("href", "") != "/x/remove" {
		t.Errorf("without JavaScript the link leads to %q, not the page that asks", link.AttrOr("href", ""))
	}
	asForm := render(t, views.ConfirmButton(views.ConfirmVM{
		Label: "Withdraw", Name: "Withdraw the invitation to bob@example.org", Question: "Withdraw?", URL: "/x/revoke", CSRF: "tok", Class: "link-danger", TestID: "revoke",
	}))
	form := asForm.Find("form")
	button := form.Find(`button[type="submit"][data-testid="revoke"]`)
	if form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/x/revoke" || form.AttrOr("hx-confirm", "") != "Withdraw?" {
		t.Errorf("form: method %q, action %q, confirm %q", form.AttrOr("method", ""), form.AttrOr("action", ""), form.AttrOr("hx-confirm", ""))
	}
	if form.Find(`input[name="_csrf"]`).AttrOr("value", "") != "tok" {
		t.Error("the form carries no CSRF token")
	}
	if name := button.AttrOr("aria-label", ""); !strings.Contains(name, "Withdraw") || !strings.Contains(name, "bob@example.org") {
		t.Errorf("button name %q", name)
	}
}

func TestEmptyState(t *testing.T) {
	doc := render(t, views.EmptyState(views.EmptyVM{TestID: "no-secrets", Message: "No secrets yet.", ActionLabel: "Add one", ActionURL: "#add-secret"}))
	box := doc.Find(`[data-testid="no-secrets"]`)
	if !strings.Contains(box.Text(), "No secrets yet.") || box.Find("a").AttrOr("href", "") != "#add-secret" {
		t.Errorf("empty state %q, link %q", box.Text(), box.Find("a").AttrOr("href", ""))
	}
}

// TestPagesKeepTheWiring renders pages and panels full of controls, tables
// and errors, and checks the wiring on each as a whole.
func TestPagesKeepTheWiring(t *testing.T) {
	p := views.Page{Title: "T", CSRF: "tok", User: &views.UserVM{Name: "Ada", Email: "ada@example.org"}, Current: &views.ProjectLink{ID: "p1", Name: "Alpha", Admin: true}}
	errs := func(fields ...string) forms.Errors {
		e := forms.Errors{}
		for _, f := range fields {
			e.Add(f, "Wrong "+f+".")
		}
		return e
	}
	policies := []views.Option{{Value: "pol1", Label: "Readers"}}
	pages := map[string]templ.Component{
		"members": views.MembersPanel(views.MembersVM{
			Page: p, Rows: []views.MemberRowVM{{ID: "m1", Name: "Ada", Email: "ada@example.org", Admin: true, Active: true}},
			Invitations:  []views.InvitationRowVM{{ID: "i1", Email: "bob@example.org"}},
			InviteErrors: errs("email", "accessPolicy"), Policies: policies,
		}),
		"member": views.MemberForm(views.MemberEditVM{Page: p, Member: views.MemberRowVM{ID: "m1"}, Errors: errs("accessPolicy"), Policies: policies}),
		"settings": views.SettingsForm(p, views.SettingsVM{
			Errors:   errs("name", "description", "strictMode", "features", "superAdmin", "defaultPatientAccessPolicy"),
			Policies: policies, AllFeatures: []string{"bots", "email"}, CanOperate: true, AskStrictOff: true,
		}),
		"secrets":  views.SecretsPanel(p, views.SecretsVM{Rows: []views.SecretRowVM{{ID: "s1", Name: "KEY"}}, Errors: errs("name", "value")}),
		"clients":  views.ClientsPanel(p, views.ClientsVM{Rows: []views.ClientRowVM{{ID: "c1", Name: "App"}}, Policies: policies, Errors: errs("name", "description", "redirectUris", "accessPolicy", "tokenLifetime"), Shown: &views.ClientSecretVM{Name: "App", ClientID: "c1", Secret: "s", New: true}}),
		"policy":   views.PolicyForm(p, views.PolicyFormVM{Action: "/x", Form: forms.Policy{Rules: []forms.Rule{{ResourceType: "Patient"}}}, Errors: errs("name", "rules.0")}),
		"audit":    views.AuditPage(p, views.AuditVM{Rows: []views.AuditRowVM{{Who: "ada@example.org", Action: "x"}}, Actions: []string{"x"}, Errors: errs("action", "actor", "from", "to")}),
		"search":   views.ResourceSearchPanel(p, views.ResourceSearchVM{Type: "Patient", Fields: []views.SearchFieldVM{{Code: "name"}}, SortOptions: []views.OptionVM{{Value: "_id", Label: "Id"}}, Counts: []string{"20"}, Error: "Unknown parameter."}),
		"results":  views.ResourceSearchPanel(p, views.ResourceSearchVM{Type: "Patient", Counts: []string{"20"}, Rows: []views.ResourceRowVM{{ID: "r1"}}, From: 1, To: 1}),
		"editor":   views.ResourceEditor(p, views.ResourceEditVM{Type: "Patient", ID: "r1", Issues: []views.IssueVM{{Message: "Bad."}}, Conflict: "Changed."}),
		"account":  views.AccountPanel(p, views.AccountVM{NameErrors: errs("firstName"), EmailErrors: errs("email"), PasswordErrors: errs("current", "password"), Sessions: []views.SessionRowVM{{ID: "s1", Device: "Firefox", Current: true}}}),
		"projects": views.ChooseProjectPage(p),
		"home":     views.ProjectHomePage(p, views.ProjectHomeVM{Project: *p.Current}),
		"types":    views.ResourceTypesPage(p, views.ResourceTypesVM{JumpErrors: errs("type")}),
	}
	for name, c := range pages {
		checkWiring(t, name, render(t, c))
	}
}
