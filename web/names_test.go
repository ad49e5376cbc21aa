package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// TestInvisibleNamesAreRefusedInline: every form that takes a free-text name
// refuses one that shows nothing, or that holds a text-direction override,
// with a 422 and the reason next to the field, keeping what was typed; a
// good name is stored normalised.
func TestInvisibleNamesAreRefusedInline(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			newcomer := app.Client()
			forms := []struct {
				name   string
				c      *webtest.Client
				path   string
				form   url.Values
				field  string
				testid string
			}{
				{"registration", newcomer, "/register", url.Values{"lastName": {"Hopper"}, "email": {"grace@example.org"}, "password": {"password-123"}}, "firstName", "error-firstName"},
				{"account rename", ada, "/account/name", url.Values{"firstName": {"Ada"}}, "lastName", "error-lastName"},
				{"new project", ada, "/projects/new", url.Values{}, "projectName", "error-projectName"},
				{"first project", ada, "/register/project", url.Values{}, "projectName", "error-projectName"},
				{"settings", ada, "/projects/" + project + "/settings", settingsForm(t, ada, project), "name", "error-name"},
				{"access policy", ada, "/projects/" + project + "/access-policies/new", url.Values{"rows": {"1"}, "rules.0.resourceType": {"Patient"}}, "name", "error-name"},
			}
			bad := []struct{ value, says string }{
				{"\u200b\u200b\u200b", "invisible or control characters (it holds U+200B)"},
				{"\u3164", "at least one visible character"},
				{"Alpha\u202eahplA", "text-direction controls (it holds U+202E)"},
				{"\u2067Alpha", "text-direction controls (it holds U+2067)"},
			}
			for _, f := range forms {
				for _, b := range bad {
					v := url.Values{}
					for k, vs := range f.form {
						v[k] = vs
					}
					v.Set(f.field, b.value)
					r := f.c.PostForm(f.path, v).Status(http.StatusUnprocessableEntity)
					if got := r.TestID(f.testid); !strings.Contains(got, b.says) {
						t.Errorf("%s with %q: %s says %q, want …%s…", f.name, b.value, f.testid, got, b.says)
					}
					if got, _ := r.Doc().Find(`[name="` + f.field + `"]`).Attr("value"); got != b.value {
						t.Errorf("%s with %q: the field holds %q afterwards", f.name, b.value, got)
					}
				}
			}

			// A good name is stored normalised: NFC, one space between words.
			ada.PostForm("/account/name", url.Values{"firstName": {"  Zoe\u0301 "}, "lastName": {"de \t la\u00a0Cruz"}}).Status(http.StatusOK)
			u, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil || u.FirstName != "Zo\u00e9" || u.LastName != "de la Cruz" {
				t.Errorf("stored %q %q, %v", u.FirstName, u.LastName, err)
			}
		})
	}
}
