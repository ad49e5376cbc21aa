package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// formTokenOf is the one-time token of the create form on page r.
func formTokenOf(t *testing.T, r *webtest.Response) string {
	t.Helper()
	tok, ok := r.Doc().Find(`input[name="formToken"]`).Attr("value")
	if !ok || tok == "" {
		t.Fatalf("the form carries no one-time token\n%s", r.Body)
	}
	return tok
}

// projectCount is how many projects the user with this email belongs to.
func projectCount(t *testing.T, app *webtest.App, email string) int {
	t.Helper()
	u, err := app.Sys.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	list, err := app.Sys.ProjectsOf(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// TestCreateFormsActOnce: a create form sent twice with its one-time token
// (a double click, a replayed request, with or without htmx) makes one
// project or one resource, and the second submission lands where the first
// one did. A refused form keeps its token and goes through once corrected.
func TestCreateFormsActOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")

			// A new project, twice, then once more through htmx.
			tok := formTokenOf(t, ada.Get("/projects/new").Status(http.StatusOK))
			form := url.Values{"projectName": {"Beta"}, "formToken": {tok}}
			first := ada.PostForm("/projects/new", form).Status(http.StatusSeeOther).RedirectsTo("/projects/")
			if again := ada.PostForm("/projects/new", form).Status(http.StatusSeeOther).RedirectsTo("/projects/"); again != first {
				t.Errorf("the second submission went to %s, the first to %s", again, first)
			}
			ada.HTMX = true
			if again := ada.PostForm("/projects/new", form).Status(http.StatusOK).RedirectsTo("/projects/"); again != first {
				t.Errorf("the htmx submission went to %s, the first to %s", again, first)
			}
			ada.HTMX = false
			if n := projectCount(t, app, "ada@example.org"); n != 2 {
				t.Errorf("ada has %d projects, want 2 (Alpha and one Beta)", n)
			}

			// Registration's first project.
			grace := app.Client()
			grace.PostForm("/register", url.Values{"firstName": {"Grace"}, "lastName": {"Hopper"}, "email": {"grace@example.org"},
				"password": {"password-123"}}).RedirectsTo("/register/project")
			tok = formTokenOf(t, grace.Get("/register/project").Status(http.StatusOK))
			form = url.Values{"projectName": {"Navy"}, "formToken": {tok}}
			first = grace.PostForm("/register/project", form).RedirectsTo("/projects/")
			if again := grace.PostForm("/register/project", form).RedirectsTo("/projects/"); again != first {
				t.Errorf("registration: the second submission went to %s, the first to %s", again, first)
			}
			if n := projectCount(t, app, "grace@example.org"); n != 1 {
				t.Errorf("grace has %d projects, want 1", n)
			}

			// The same token is nothing to someone else: grace's own project.
			if other := grace.PostForm("/projects/new", url.Values{"projectName": {"Beta"}, "formToken": {formTokenOf(t, ada.Get("/projects/new"))}}).
				RedirectsTo("/projects/"); other == first {
				t.Error("another user's token reached grace's project")
			}

			// A resource: refused first (the token stays in the form), then
			// corrected and sent twice.
			newPatient := "/projects/" + project + "/resources/Patient/new"
			tok = formTokenOf(t, ada.Get(newPatient).Status(http.StatusOK))
			refused := ada.PostForm(newPatient, url.Values{"json": {`{"resourceType":"Patient","gender":"robot"}`}, "formToken": {tok}}).
				Status(http.StatusUnprocessableEntity)
			if got := formTokenOf(t, refused); got != tok {
				t.Errorf("the refused form came back with token %q, want %q", got, tok)
			}
			form = url.Values{"json": {adaJSON}, "formToken": {tok}}
			first = ada.PostForm(newPatient, form).RedirectsTo("/projects/" + project + "/resources/Patient/")
			ada.HTMX = true
			if again := ada.PostForm(newPatient, form).RedirectsTo("/projects/" + project + "/resources/Patient/"); again != first {
				t.Errorf("resource: the second submission went to %s, the first to %s", again, first)
			}
			ada.HTMX = false
			if n := countResources(t, app, project); n != 1 {
				t.Errorf("%d patients, want 1", n)
			}

			// A form without a token (a page from before tokens) still works,
			// unguarded.
			ada.PostForm(newPatient, url.Values{"json": {adaJSON}}).RedirectsTo("/projects/" + project + "/resources/Patient/")
			if n := countResources(t, app, project); n != 2 {
				t.Errorf("%d patients after a form without a token, want 2", n)
			}
		})
	}
}

// TestCreateFormsActOnceInParallel: copies of one form that arrive at the
// same moment make one project and one resource, and every copy is sent
// to it.
func TestCreateFormsActOnceInParallel(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			newPatient := "/projects/" + project + "/resources/Patient/new"
			forms := []struct {
				path string
				form url.Values
			}{
				{"/projects/new", url.Values{"projectName": {"Beta"}, "formToken": {formTokenOf(t, ada.Get("/projects/new"))}}},
				{newPatient, url.Values{"json": {adaJSON}, "formToken": {formTokenOf(t, ada.Get(newPatient))}}},
			}
			for _, f := range forms {
				where := make([]string, 6)
				var wg sync.WaitGroup
				for i := range where {
					wg.Go(func() {
						r := ada.PostForm(f.path, f.form)
						where[i] = r.Resp.Status + " " + r.Resp.Header.Get("Location")
					})
				}
				wg.Wait()
				for i, w := range where {
					if w != where[0] || !strings.HasPrefix(w, "303 See Other /projects/") {
						t.Errorf("%s: copy %d answered %q, copy 0 %q", f.path, i, w, where[0])
					}
				}
			}
			if n := projectCount(t, app, "ada@example.org"); n != 2 {
				t.Errorf("ada has %d projects, want 2", n)
			}
			if n := countResources(t, app, project); n != 1 {
				t.Errorf("%d patients, want 1", n)
			}
		})
	}
}
