package web_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// secretValue reads a secret's value back through the store, as the code
// that uses secrets will.
func secretValue(t *testing.T, app *webtest.App, project, name string) (string, error) {
	t.Helper()
	return app.Sys.Tenant(project).Secrets(app.SecretBox).Value(t.Context(), name)
}

func secretID(t *testing.T, app *webtest.App, project, name string) string {
	t.Helper()
	list, err := app.Sys.Tenant(project).Secrets(app.SecretBox).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == name {
			return s.ID
		}
	}
	t.Fatalf("secret %s not found", name)
	return ""
}

// textarea returns the content of the value field: it must always be empty.
func valueField(r *webtest.Response) string {
	return r.Doc().Find(`textarea[name="value"]`).Text()
}

func TestSecretsEditor(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/secrets"

			page := c.Get(base).Status(http.StatusOK)
			if !page.Has("no-secrets") || !page.Has("add-secret") {
				t.Fatal("empty list or add form missing")
			}
			if cls, _ := page.Doc().Find(`[data-testid="tab-secrets"]`).Attr("aria-current"); cls != "page" {
				t.Error("the Secrets tab is not marked current")
			}

			// Add, without JavaScript: the page comes back with the secret listed and masked.
			const value = "sk_live_51HxQ9a8b7c6d5e4f3f9a"
			r := c.PostForm(base, url.Values{"name": {"STRIPE_KEY"}, "value": {value}}).Status(http.StatusOK)
			r.NotContains(value)
			if got := r.TestID("notice"); got != "Secret STRIPE_KEY added." {
				t.Errorf("notice %q", got)
			}
			if got := r.TestIDs("secret-name"); len(got) != 1 || got[0] != "STRIPE_KEY" {
				t.Fatalf("listed %v", got)
			}
			if got := r.TestID("secret-hint"); got != "••••••3f9a" {
				t.Errorf("hint %q", got)
			}
			if got := r.TestID("secret-updated-by"); got != "Test ada" {
				t.Errorf("updated by %q", got)
			}
			if r.TestID("secret-updated") == "" || !r.Has("project-tabs") {
				t.Error("no update time, or not a full page")
			}
			if v := valueField(r); v != "" {
				t.Errorf("value field holds %q after a save", v)
			}
			if got, err := secretValue(t, app, project, "STRIPE_KEY"); got != value || err != nil {
				t.Errorf("stored value %q, %v", got, err)
			}
			short := c.PostForm(base, url.Values{"name": {"PIN"}, "value": {"12345678901"}}).Status(http.StatusOK)
			if hints := short.TestIDs("secret-hint"); len(hints) != 2 || hints[0] != "••••••" {
				t.Errorf("a short value's hint must be dots only: %v", hints)
			}

			// Bad input: 422, the message next to its field, the name kept, the value never.
			bad := []struct{ name, value, field, msg string }{
				{"bad name", "typed-value-0001", "name", "letters, digits"},
				{"", "typed-value-0002", "name", "required"},
				{strings.Repeat("N", 101), "typed-value-0003", "name", "at most 100"},
				{"STRIPE_KEY", "typed-value-0004", "name", "already has a secret"},
				{"EMPTY", "", "value", "required"},
				{"BIG", strings.Repeat("typed-value-0005", 700), "value", "at most 10 KB"},
			}
			for _, b := range bad {
				r := c.PostForm(base, url.Values{"name": {b.name}, "value": {b.value}}).Status(http.StatusUnprocessableEntity)
				if got := r.TestID("error-" + b.field); !strings.Contains(got, b.msg) {
					t.Errorf("%.20q: %s error %q, want %q", b.name, b.field, got, b.msg)
				}
				if v, _ := r.Doc().Find(`input[name="name"]`).Attr("value"); v != b.name {
					t.Errorf("typed name not kept: %q", v)
				}
				if b.value != "" {
					r.NotContains(b.value[:16])
				}
				if b.field == "name" && !r.Has("retype-value") {
					t.Errorf("%.20q: no request to enter the value again", b.name)
				}
				if valueField(r) != "" || !r.Has("project-tabs") {
					t.Error("value echoed, or not a full page")
				}
			}
			if got := c.Get(base).TestIDs("secret-name"); len(got) != 2 {
				t.Errorf("a refused secret was listed: %v", got)
			}

			// htmx: fragments in place, with the same statuses.
			c.HTMX = true
			frag := c.PostForm(base, url.Values{"name": {"WEBHOOK.secret-2"}, "value": {"whsec_abcdefghijkl"}}).Status(http.StatusOK)
			if frag.Has("project-tabs") || !frag.Has("secrets-panel") || frag.TestID("notice") != "Secret WEBHOOK.secret-2 added." {
				t.Errorf("htmx add: not the panel fragment\n%s", frag.Body)
			}
			frag = c.PostForm(base, url.Values{"name": {"x y"}, "value": {"whsec_typed_again"}}).Status(http.StatusUnprocessableEntity)
			frag.NotContains("whsec_typed_again")
			if frag.Has("project-tabs") || frag.TestID("error-name") == "" {
				t.Errorf("htmx error: not the fragment with the error\n%s", frag.Body)
			}
			c.HTMX = false

			// Edit page: replace the value, then rename.
			id := secretID(t, app, project, "STRIPE_KEY")
			edit := c.Get(base + "/" + id).Status(http.StatusOK)
			edit.NotContains(value)
			if edit.TestID("secret-title") != "STRIPE_KEY" || valueField(edit) != "" {
				t.Errorf("edit page: title %q, value field %q", edit.TestID("secret-title"), valueField(edit))
			}
			if v, _ := edit.Doc().Find(`input[name="name"]`).Attr("value"); v != "STRIPE_KEY" {
				t.Errorf("rename field shows %q", v)
			}
			r = c.PostForm(base+"/"+id+"/value", url.Values{"value": {""}}).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-value"), "required") {
				t.Errorf("empty replacement: %q", r.TestID("error-value"))
			}
			r = c.PostForm(base+"/"+id+"/value", url.Values{"value": {"sk_live_replaced_00007777"}}).Status(http.StatusOK)
			r.NotContains("sk_live_replaced_00007777")
			if r.TestID("notice") != "Value replaced." || r.TestID("secret-hint") != "••••••7777" {
				t.Errorf("after replace: notice %q, hint %q", r.TestID("notice"), r.TestID("secret-hint"))
			}
			if got, err := secretValue(t, app, project, "STRIPE_KEY"); err != nil || got != "sk_live_replaced_00007777" {
				t.Errorf("value after replace %q, %v", got, err)
			}
			for name, msg := range map[string]string{"PIN": "already has a secret", "no/slash": "letters, digits"} {
				r = c.PostForm(base+"/"+id+"/name", url.Values{"name": {name}}).Status(http.StatusUnprocessableEntity)
				if got := r.TestID("error-name"); !strings.Contains(got, msg) {
					t.Errorf("rename to %q: %q", name, got)
				}
				if v, _ := r.Doc().Find(`input[name="name"]`).Attr("value"); v != name {
					t.Errorf("rename form lost the typed name: %q", v)
				}
			}
			c.HTMX = true
			frag = c.PostForm(base+"/"+id+"/name", url.Values{"name": {"STRIPE_LIVE"}}).Status(http.StatusOK)
			if frag.Has("project-tabs") || frag.TestID("secret-title") != "STRIPE_LIVE" || frag.TestID("notice") != "Renamed to STRIPE_LIVE." {
				t.Errorf("htmx rename\n%s", frag.Body)
			}
			frag = c.PostForm(base+"/"+id+"/name", url.Values{"name": {" STRIPE_LIVE "}}).Status(http.StatusOK)
			if got := frag.TestID("notice"); !strings.Contains(got, "Nothing changed") {
				t.Errorf("rename to the same name: %q", got)
			}
			c.HTMX = false
			if got, err := secretValue(t, app, project, "STRIPE_LIVE"); err != nil || got != "sk_live_replaced_00007777" {
				t.Errorf("value after rename %q, %v", got, err)
			}

			// Delete: a confirmation page without JavaScript, hx-confirm with it.
			list := c.Get(base).Status(http.StatusOK)
			del := list.Doc().Find(`[data-testid="delete-secret"]`).First()
			if href, _ := del.Attr("href"); href != base+"/"+secretID(t, app, project, "PIN")+"/delete" {
				t.Errorf("delete link %q", href)
			}
			if confirm, _ := del.Attr("hx-confirm"); !strings.Contains(confirm, "Delete the secret PIN?") {
				t.Errorf("hx-confirm %q", confirm)
			}
			confirm := c.Get(base + "/" + id + "/delete").Status(http.StatusOK)
			if !confirm.Has("confirm-delete") || !strings.Contains(confirm.Body, "STRIPE_LIVE") {
				t.Error("confirmation page")
			}
			if _, err := secretValue(t, app, project, "STRIPE_LIVE"); err != nil {
				t.Error("opening the confirmation deleted the secret")
			}
			c.PostForm(base+"/"+id+"/delete", nil).Status(http.StatusSeeOther).RedirectsTo(base)
			if _, err := secretValue(t, app, project, "STRIPE_LIVE"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("deleted secret: %v", err)
			}
			c.Get(base + "/" + id).Status(http.StatusNotFound)
			c.PostForm(base+"/"+id+"/delete", nil).Status(http.StatusNotFound)

			c.HTMX = true
			frag = c.PostForm(base+"/"+secretID(t, app, project, "PIN")+"/delete", nil).Status(http.StatusOK)
			if frag.TestID("notice") != "Secret PIN deleted." || strings.Join(frag.TestIDs("secret-name"), ",") != "WEBHOOK.secret-2" {
				t.Errorf("htmx delete: %q, %v", frag.TestID("notice"), frag.TestIDs("secret-name"))
			}
			c.HTMX = false

			// Every change is in the audit log, by name.
			audit := c.Get("/projects/" + project + "/audit").Status(http.StatusOK)
			joined := strings.Join(audit.TestIDs("audit-action"), ",")
			for _, a := range []string{"secret.created", "secret.updated", "secret.renamed", "secret.deleted"} {
				if !strings.Contains(joined, a) {
					t.Errorf("audit log lacks %s: %s", a, joined)
				}
			}
			audit.NotContains(value).NotContains("sk_live_replaced")
		})
	}
}

func TestSecretPlaintextNeverStoredOrLogged(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/secrets"
			values := []string{"first-plaintext-Q7vZ2mK9", "second-plaintext-R8wY3nL0", "third-plaintext-S9xX4oM1", "typo-plaintext-T0yW5pN2", "htmx-plaintext-U1zV6qO3"}

			c.PostForm(base, url.Values{"name": {"API_KEY"}, "value": {values[0]}}).Status(http.StatusOK)
			id := secretID(t, app, project, "API_KEY")
			c.PostForm(base+"/"+id+"/value", url.Values{"value": {values[1]}}).Status(http.StatusOK)
			c.PostForm(base+"/"+id+"/name", url.Values{"name": {"API_TOKEN"}}).Status(http.StatusOK)
			c.PostForm(base, url.Values{"name": {"OTHER"}, "value": {values[2]}}).Status(http.StatusOK)
			// Error re-renders, with a value that is never saved.
			c.PostForm(base, url.Values{"name": {"bad name"}, "value": {values[3]}}).Status(http.StatusUnprocessableEntity)
			c.PostForm(base+"/"+id+"/value", url.Values{"value": {strings.Repeat(values[3], 500)}}).Status(http.StatusUnprocessableEntity)
			c.HTMX = true
			c.PostForm(base, url.Values{"name": {"HTMX"}, "value": {values[4]}}).Status(http.StatusOK)
			c.PostForm(base, url.Values{"name": {"HTMX"}, "value": {values[4]}}).Status(http.StatusUnprocessableEntity)
			c.HTMX = false
			c.PostForm(base+"/"+secretID(t, app, project, "OTHER")+"/delete", nil).Status(http.StatusSeeOther)

			if got, err := secretValue(t, app, project, "API_TOKEN"); err != nil || got != values[1] {
				t.Fatalf("the secret was not saved: %q, %v", got, err)
			}
			logs := app.Logs()
			if !strings.Contains(logs, base) {
				t.Fatalf("the log has no request lines, so this test proves nothing:\n%s", logs)
			}
			for _, v := range values {
				for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v)), url.QueryEscape(v)} {
					if hits := testdb.RowsContaining(t, db.DB, []byte(form)); len(hits) > 0 {
						t.Errorf("%q found in the database: %v", form, hits)
					}
					if strings.Contains(logs, form) {
						t.Errorf("%q found in the log", form)
					}
				}
			}
		})
	}
}

// secretRoutes lists every secrets route, with a form that would change
// something if it were let through. {id} stands for the secret's id.
var secretRoutes = []struct {
	method, path string
	form         url.Values
}{
	{http.MethodGet, "/secrets", nil},
	{http.MethodPost, "/secrets", url.Values{"name": {"HIJACK"}, "value": {"hijack-value-000"}}},
	{http.MethodGet, "/secrets/{id}", nil},
	{http.MethodPost, "/secrets/{id}/value", url.Values{"value": {"hijacked-value-000"}}},
	{http.MethodPost, "/secrets/{id}/name", url.Values{"name": {"HIJACKED"}}},
	{http.MethodGet, "/secrets/{id}/delete", nil},
	{http.MethodPost, "/secrets/{id}/delete", nil},
}

func TestSecretRoutesRefuseOutsiders(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, projectA := app.SignUp("ada@example.org", "Alpha")
			admin.PostForm("/projects/"+projectA+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"original-value-1234"}}).Status(http.StatusOK)
			id := secretID(t, app, projectA, "API_KEY")
			member := addMember(t, app, projectA, "member@example.org", false)
			mallory, projectB := app.SignUp("mallory@example.org", "Beta")
			anon := app.Client()

			registered := 0
			for _, r := range app.Server.Routes() {
				if strings.Contains(r.Path, "/secrets") {
					registered++
				}
			}
			if registered != len(secretRoutes) {
				t.Fatalf("%d secrets routes registered, %d tested", registered, len(secretRoutes))
			}

			untouched := func(who string) {
				t.Helper()
				list, err := app.Sys.Tenant(projectA).Secrets(app.SecretBox).List(t.Context())
				if err != nil || len(list) != 1 || list[0].Name != "API_KEY" {
					t.Fatalf("after %s: project A's secrets %+v, %v", who, list, err)
				}
				if v, err := secretValue(t, app, projectA, "API_KEY"); v != "original-value-1234" || err != nil {
					t.Fatalf("after %s: value %q, %v", who, v, err)
				}
				if b, err := app.Sys.Tenant(projectB).Secrets(app.SecretBox).List(t.Context()); err != nil {
					t.Fatalf("after %s: project B's secrets: %v", who, err)
				} else if len(b) > 0 && b[0].Name != "HIJACK" {
					t.Fatalf("after %s: project B has %+v", who, b)
				}
			}
			send := func(c *webtest.Client, method, path string, form url.Values, csrf bool) *webtest.Response {
				if method == http.MethodGet {
					return c.Get(path)
				}
				if !csrf {
					return c.PostFormNoCSRF(path, form)
				}
				return c.PostForm(path, form)
			}

			for _, r := range secretRoutes {
				pathA := "/projects/" + projectA + strings.ReplaceAll(r.path, "{id}", id)
				key := r.method + " " + r.path

				// Signed out: sent to sign-in.
				resp := send(anon, r.method, pathA, r.form, true).Status(http.StatusSeeOther)
				resp.RedirectsTo("/signin")
				untouched("anonymous " + key)

				// A plain member of the project: 403 with a reason.
				resp = send(member, r.method, pathA, r.form, true).Status(http.StatusForbidden)
				if !strings.Contains(resp.TestID("error-message"), "Only admins") {
					t.Errorf("member %s: %q", key, resp.TestID("error-message"))
				}
				resp.NotContains("API_KEY")
				untouched("member " + key)

				// An admin of project B, in project A or with A's secret id in B's URL: 404.
				resp = send(mallory, r.method, pathA, r.form, true).Status(http.StatusNotFound)
				resp.NotContains("API_KEY").NotContains("Alpha")
				untouched("outsider in A " + key)
				if strings.Contains(r.path, "{id}") {
					pathB := "/projects/" + projectB + strings.ReplaceAll(r.path, "{id}", id)
					send(mallory, r.method, pathB, r.form, true).Status(http.StatusNotFound).NotContains("API_KEY")
					untouched("B's URL with A's id " + key)
				}

				// The admin without a CSRF token: 403.
				if r.method == http.MethodPost {
					send(admin, r.method, pathA, r.form, false).Status(http.StatusForbidden)
					untouched("no CSRF " + key)
				}
			}
		})
	}
}
