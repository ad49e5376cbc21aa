package handlers

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models/resources"
	"enclave/views"
	"enclave/views/forms"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// formRequest is the echo context of a request with body, sent as a web
// form when there is one.
func formRequest(method, target, body string) echo.Context {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// Every field of a form binds from its input, checkboxes from "on", several
// values into a list; a GET binds its query.
func TestBindForm(t *testing.T) {
	body := url.Values{"name": {"Alpha"}, "description": {"Two\nlines"}, "version": {"7"}, "strictMode": {"on"},
		"checkReferencesOnWrite": {"yes"}, "defaultPatientAccessPolicy": {"p-1"}, "features": {"bots", "cron"},
		"superAdmin": {"on"}, "confirmSuperAdmin": {"Alpha"}}
	var f forms.Settings
	errs, err := bindForm(formRequest(http.MethodPost, "/projects/p/settings", body.Encode()), &f)
	if err != nil || errs.Any() {
		t.Fatalf("bind: %+v, %v", errs, err)
	}
	if f.Name != "Alpha" || f.Description != "Two\nlines" || f.Version.N != 7 || !f.StrictMode.On() ||
		f.CheckReferencesOnWrite.On() || f.DefaultPatientAccessPolicy != "p-1" || !slices.Equal(f.Features, []string{"bots", "cron"}) ||
		!f.SuperAdminOn() || f.ConfirmSuperAdmin != "Alpha" || f.OperatorFields.On() {
		t.Errorf("bound %+v", f)
	}
	u := settingsUpdate(f)
	if u.Version != 7 || u.Features == nil || u.SuperAdmin == nil || !*u.SuperAdmin || u.ConfirmName != "Alpha" ||
		u.DefaultPatientAccessPolicy == nil || *u.DefaultPatientAccessPolicy != "p-1" {
		t.Errorf("update %+v", u)
	}

	// An admin's form carries no operator fields: the update leaves them
	// alone, so the store cannot mistake it for an attempt to clear them.
	var plain forms.Settings
	if _, err := bindForm(formRequest(http.MethodPost, "/projects/p/settings", "version=1"), &plain); err != nil {
		t.Fatal(err)
	}
	if u := settingsUpdate(plain); u.Features != nil || u.SuperAdmin != nil {
		t.Errorf("a form without operator fields changes them: %+v", u)
	}
	// A super admin's form says it has them, even with every box clear.
	var operator forms.Settings
	if _, err := bindForm(formRequest(http.MethodPost, "/projects/p/settings", "version=1&operatorFields=on"), &operator); err != nil {
		t.Fatal(err)
	}
	if u := settingsUpdate(operator); u.Features == nil || len(*u.Features) != 0 || u.SuperAdmin == nil || *u.SuperAdmin {
		t.Errorf("an operator's cleared boxes: %+v", u)
	}

	// A GET binds the query's fields.
	var in forms.SignIn
	if _, err := bindForm(formRequest(http.MethodGet, "/signin?next=%2Fprojects%2Fp&email=ignored", ""), &in); err != nil {
		t.Fatal(err)
	}
	if in.Next != "/projects/p" || in.Email != "" {
		t.Errorf("sign-in page query: %+v", in)
	}
}

// A value that does not fit its field is an error on that field, never a
// failed request, and the rest of the form still binds as sent.
func TestBindFormBadValue(t *testing.T) {
	var f forms.Settings
	errs, err := bindForm(formRequest(http.MethodPost, "/projects/p/settings", "version=seven&name=Alpha&strictMode=on"), &f)
	if err != nil {
		t.Fatalf("a word in a number field failed the request: %v", err)
	}
	if !strings.Contains(errs.Of("version"), "not a number") {
		t.Errorf("version error %q", errs.Of("version"))
	}
	if f.Version.String() != "seven" || f.Name != "Alpha" || !f.StrictMode.On() {
		t.Errorf("the form as sent: %+v", f)
	}

	var p forms.Policy
	errs, err = bindForm(formRequest(http.MethodPost, "/projects/p/access-policies/new", "rows=lots&name=Nurses"), &p)
	if err != nil || errs.Of("rows") == "" || p.Name != "Nurses" {
		t.Errorf("rows=lots: %+v, %+v, %v", p, errs, err)
	}
}

// Bodies that are not web forms are refused with a client error.
func TestBindFormRefusesOtherBodies(t *testing.T) {
	for _, c := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"JSON", echo.MIMEApplicationJSON, `{"projectName":"Alpha"}`, http.StatusUnsupportedMediaType},
		{"multipart", echo.MIMEMultipartForm + "; boundary=x", "--x--", http.StatusUnsupportedMediaType},
		{"text", echo.MIMETextPlain, "projectName=Alpha", http.StatusUnsupportedMediaType},
		{"a broken escape", echo.MIMEApplicationForm, "projectName=%zz", http.StatusBadRequest},
	} {
		req := httptest.NewRequest(http.MethodPost, "/projects/new", strings.NewReader(c.body))
		req.Header.Set(echo.HeaderContentType, c.contentType)
		var f forms.Project
		_, err := bindForm(echo.New().NewContext(req, httptest.NewRecorder()), &f)
		var he *echo.HTTPError
		if !errors.As(err, &he) || he.Code != c.status {
			t.Errorf("%s: %v, want %d", c.name, err, c.status)
		}
		if f.Name != "" {
			t.Errorf("%s: bound %+v", c.name, f)
		}
	}
	// No body at all is an empty form.
	var f forms.Project
	if errs, err := bindForm(formRequest(http.MethodPost, "/projects/new", ""), &f); err != nil || errs.Any() || f != (forms.Project{}) {
		t.Errorf("empty body: %+v, %+v, %v", f, errs, err)
	}
}

// Rule rows come from their numbered inputs: as many as the form had, blank
// ones left out, at most the limit.
func TestPolicyRules(t *testing.T) {
	body := url.Values{"name": {"Nurses"}, "rows": {"4"},
		"rules.0.resourceType": {" Patient "}, "rules.0.readonly": {"on"}, "rules.0.hiddenFields": {"birthDate, address"},
		"rules.2.resourceType": {"Observation"}, "rules.2.criteria": {"Observation?status=final"},
		"rules.4.resourceType": {"Beyond the rows"}}
	c := formRequest(http.MethodPost, "/projects/p/access-policies/new", body.Encode())
	var f forms.Policy
	if _, err := bindForm(c, &f); err != nil {
		t.Fatal(err)
	}
	form, err := c.FormParams()
	if err != nil {
		t.Fatal(err)
	}
	f.ReadRules(form, resources.MaxPolicyRules+1)
	want := []forms.Rule{{ResourceType: "Patient", ReadOnly: true, HiddenFields: "birthDate, address"},
		{ResourceType: "Observation", Criteria: "Observation?status=final"}}
	if !slices.Equal(f.Rules, want) {
		t.Errorf("rules %+v, want %+v", f.Rules, want)
	}
	in := policyInput(f)
	if len(in.Rules) != 2 || !in.Rules[0].ReadOnly || len(in.Rules[0].HiddenFields) != 2 {
		t.Errorf("policy input %+v", in)
	}
	f.Rows = forms.IntOf(1 << 20)
	f.ReadRules(form, 2)
	if len(f.Rules) != 1 {
		t.Errorf("rows past the limit read: %+v", f.Rules)
	}
}

// A refused form comes back with what was sent, its errors by its fields,
// and never a password.
func TestFormShownAsSubmitted(t *testing.T) {
	body := url.Values{"firstName": {"Ada <b>"}, "lastName": {""}, "email": {"ada@example"}, "password": {"hunter2-secret"}}
	var f forms.Register
	errs, err := bindForm(formRequest(http.MethodPost, "/register", body.Encode()), &f)
	if err != nil {
		t.Fatal(err)
	}
	errs.Merge(map[string]string{"lastName": "Enter your last name.", "email": "Enter a valid email address."})
	doc := renderDoc(t, views.RegisterForm("csrf", f, errs))
	for name, want := range map[string]string{"firstName": "Ada <b>", "lastName": "", "email": "ada@example", "password": ""} {
		if got := doc.Find(`input[name="`+name+`"]`).AttrOr("value", "missing"); got != want {
			t.Errorf("%s shown as %q, want %q", name, got, want)
		}
	}
	if got := doc.Find(`[data-testid="error-lastName"]`).Text(); got != "Enter your last name." {
		t.Errorf("last name error %q", got)
	}
	if html, _ := doc.Html(); strings.Contains(html, "hunter2") {
		t.Error("the password was sent back")
	}

	// The settings form as sent: a bad version and unchecked boxes too.
	var s forms.Settings
	errs, err = bindForm(formRequest(http.MethodPost, "/projects/p/settings", "name=Beta&version=x1&features=bots&operatorFields=on"), &s)
	if err != nil {
		t.Fatal(err)
	}
	doc = renderDoc(t, views.SettingsForm(views.Page{Current: &views.ProjectLink{ID: "p"}}, views.SettingsVM{Form: s, Errors: errs, AllFeatures: []string{"bots", "cron"}, CanOperate: true}))
	if v := doc.Find(`input[name="version"]`).AttrOr("value", ""); v != "x1" {
		t.Errorf("version shown as %q", v)
	}
	if v := doc.Find(`input[name="name"]`).AttrOr("value", ""); v != "Beta" {
		t.Errorf("name shown as %q", v)
	}
	if !doc.Find(`[data-testid="feature-bots"]`).Is("[checked]") || doc.Find(`[data-testid="feature-cron"]`).Is("[checked]") ||
		doc.Find(`[data-testid="strict-mode"]`).Is("[checked]") {
		t.Error("boxes not shown as sent")
	}
	if !strings.Contains(doc.Find(`[data-testid="form-error"]`).Text(), "version is not a number") {
		t.Errorf("form error %q", doc.Find(`[data-testid="form-error"]`).Text())
	}
}

func renderDoc(t *testing.T, comp templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := comp.Render(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
