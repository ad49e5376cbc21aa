package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// shownClient reads the client id and the secret a create or a rotation
// shows once.
func shownClient(t *testing.T, r *webtest.Response) (id, secret string) {
	t.Helper()
	id, _ = r.Doc().Find(`[data-testid="shown-client-id"]`).Attr("value")
	secret, _ = r.Doc().Find(`[data-testid="shown-client-secret"]`).Attr("value")
	if id == "" || len(secret) < 32 {
		t.Fatalf("no client id or secret shown (%q, %q)", id, secret)
	}
	if ro, ok := r.Doc().Find(`[data-testid="shown-client-secret"]`).Attr("readonly"); !ok || ro == "false" {
		t.Error("the secret field is not read-only")
	}
	if !strings.Contains(r.TestID("client-secret-shown"), "will not be shown again") {
		t.Error("no warning that the secret is shown only once")
	}
	if cc := r.Header("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q on the answer showing a secret", cc)
	}
	return id, secret
}

func TestClientsPage(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/clients"

			page := c.Get(base).Status(http.StatusOK)
			if !page.Has("no-clients") || !page.Has("add-client") {
				t.Fatal("empty list or add form missing")
			}
			if cur, _ := page.Doc().Find(`[data-testid="tab-clients"]`).Attr("aria-current"); cur != "page" {
				t.Error("the Clients tab is not marked current")
			}

			// Create: the secret is shown once, in the answer, and works.
			r := c.PostForm(base, url.Values{"name": {"Lab sync"}, "description": {"Nightly import"},
				"redirectUris": {"https://lab.example.org/cb\nhttp://localhost:8080/cb"}, "tokenLifetime": {"30"}}).
				Status(http.StatusOK)
			id, secret := shownClient(t, r)
			if got := r.TestIDs("client-name"); len(got) != 1 || got[0] != "Lab sync" {
				t.Fatalf("listed %v", got)
			}
			api := app.Client()
			tok := api.ClientToken(id, secret)
			api.API(http.MethodGet, "/fhir/R4/Patient", "", bearer(tok)...).Status(http.StatusOK)

			list := c.Get(base).Status(http.StatusOK)
			list.NotContains(secret)
			if list.Has("client-secret-shown") {
				t.Error("the secret panel shows again on the list")
			}
			show := c.Get(base + "/" + id).Status(http.StatusOK)
			show.NotContains(secret)
			if show.TestID("client-title") != "Lab sync" || show.TestID("client-retiring") != "None" {
				t.Errorf("client page: title %q, previous secret %q", show.TestID("client-title"), show.TestID("client-retiring"))
			}
			if strings.Contains(app.Logs(), secret) {
				t.Error("the secret is in the logs")
			}

			// Bad input: 422, the message at its field, the input kept.
			bad := []struct{ name, uris, field, msg string }{
				{"", "", "name", "required"},
				{"Lab sync", "", "name", "already has a client"},
				{"Partner", "http://partner.example.org/cb", "redirectUris", "https://"},
				{"Partner", "not a uri", "redirectUris", "spaces"},
			}
			for _, b := range bad {
				r := c.PostForm(base, url.Values{"name": {b.name}, "redirectUris": {b.uris}, "tokenLifetime": {"60"}}).
					Status(http.StatusUnprocessableEntity)
				if got := r.TestID("error-" + b.field); !strings.Contains(got, b.msg) {
					t.Errorf("%q %q: %s error %q, want %q", b.name, b.uris, b.field, got, b.msg)
				}
				if v, _ := r.Doc().Find(`input[name="name"]`).Attr("value"); v != b.name {
					t.Errorf("typed name not kept: %q", v)
				}
				if v := r.Doc().Find(`textarea[name="redirectUris"]`).Text(); v != b.uris {
					t.Errorf("typed redirect URIs not kept: %q", v)
				}
				if r.Has("client-secret-shown") {
					t.Error("a refused client shows a secret")
				}
			}
			c.PostForm(base, url.Values{"name": {"Partner"}, "tokenLifetime": {"soon"}}).Status(http.StatusUnprocessableEntity).
				Shows("error-tokenLifetime")
			if got := c.Get(base).TestIDs("client-name"); len(got) != 1 {
				t.Errorf("a refused client was listed: %v", got)
			}

			// With a policy, and through htmx: the panel comes back in place,
			// refused or with the secret.
			pol := c.NewPolicy(project, "Readers")
			c.HTMX = true
			frag := c.PostForm(base, url.Values{"name": {""}, "accessPolicy": {pol}}).Status(http.StatusUnprocessableEntity)
			if frag.Has("project-tabs") || frag.TestID("error-name") == "" {
				t.Errorf("htmx error: not the panel with the error\n%s", frag.Body)
			}
			frag = c.PostForm(base, url.Values{"name": {"Reader app"}, "accessPolicy": {pol}}).Status(http.StatusOK)
			if frag.Has("project-tabs") || !frag.Has("clients-panel") {
				t.Errorf("htmx create: not the panel fragment\n%s", frag.Body)
			}
			readerID, _ := shownClient(t, frag)
			c.HTMX = false
			if got, err := app.Sys.Tenant(project).Client(t.Context(), readerID); err != nil || got.AccessPolicyID == nil || *got.AccessPolicyID != pol {
				t.Errorf("client's policy not stored: %+v, %v", got, err)
			}
			c.PostForm(base+"/"+readerID+"/delete", nil).RedirectsTo(base)

			// Rotate with a grace period: both secrets work, the page says until when.
			rot := c.PostForm(base+"/"+id+"/rotate", url.Values{"grace": {"2"}}).Status(http.StatusOK)
			id2, secret2 := shownClient(t, rot)
			if id2 != id || secret2 == secret {
				t.Fatal("rotation kept the secret or changed the id")
			}
			if !strings.HasPrefix(rot.TestID("client-retiring"), "Works until ") || !strings.Contains(rot.TestID("notice"), "works until") {
				t.Errorf("no grace end shown: %q / %q", rot.TestID("client-retiring"), rot.TestID("notice"))
			}
			api.ClientToken(id, secret)
			api.ClientToken(id, secret2)
			c.Get(base + "/" + id).NotContains(secret2)
			if got := c.Get(base).TestID("client-retiring"); !strings.HasPrefix(got, "previous secret until ") {
				t.Errorf("the list does not say until when the previous secret works: %q", got)
			}
			c.PostForm(base+"/"+id+"/rotate", url.Values{"grace": {"9999"}}).Status(http.StatusUnprocessableEntity).
				Shows("error-grace")
			api.ClientToken(id, secret2)

			// Disable: the secret is refused and the token void; enable again.
			c.PostForm(base+"/"+id+"/disable", nil).Status(http.StatusOK).Shows("enable-client")
			api.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret2}}).
				Status(http.StatusUnauthorized)
			c.PostForm(base+"/"+id+"/enable", nil).Status(http.StatusOK).Shows("disable-client")
			api.ClientToken(id, secret2)

			// The audit log tells the client events.
			audit := c.Get("/projects/" + project + "/audit").Status(http.StatusOK)
			for _, want := range []string{"client.created", "client.secret-rotated", "client.disabled", "client.enabled",
				"redirect URIs", "previous secret works until"} {
				audit.Contains(want)
			}
			audit.NotContains(secret2)

			// Delete: confirm page, then gone, and its secret refused.
			c.Get(base + "/" + id + "/delete").Status(http.StatusOK).Shows("confirm-delete")
			c.PostForm(base+"/"+id+"/delete", nil).RedirectsTo(base)
			c.Get(base + "/" + id).Status(http.StatusNotFound)
			api.Token(url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret2}}).
				Status(http.StatusUnauthorized)
			if !c.Get(base).Has("no-clients") {
				t.Error("a deleted client is listed")
			}
		})
	}
}

func TestClientsAccess(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("ada@example.org", "Alpha")
			base := "/projects/" + project + "/clients"
			id, secret := shownClient(t, admin.PostForm(base, url.Values{"name": {"Lab sync"}}).Status(http.StatusOK))

			member := app.Join(admin, project, "bob@example.org", false)
			other, _ := app.SignUp("eve@example.org", "Elsewhere")
			member.Get(base).Status(http.StatusForbidden)
			member.PostForm(base+"/"+id+"/disable", nil).Status(http.StatusForbidden)
			other.Get(base).Status(http.StatusNotFound)
			other.Get(base + "/" + id).Status(http.StatusNotFound)
			other.PostForm(base+"/"+id+"/rotate", url.Values{"grace": {"0"}}).Status(http.StatusNotFound)
			other.PostForm(base+"/"+id+"/disable", nil).Status(http.StatusNotFound)
			other.PostForm(base+"/"+id+"/delete", nil).Status(http.StatusNotFound)
			other.PostForm(base, url.Values{"name": {"Intruder"}}).Status(http.StatusNotFound)

			// Without a CSRF token nothing happens.
			admin.PostFormNoCSRF(base+"/"+id+"/disable", url.Values{}).Status(http.StatusForbidden)
			admin.PostFormNoCSRF(base+"/"+id+"/delete", url.Values{}).Status(http.StatusForbidden)
			admin.PostFormNoCSRF(base, url.Values{"name": {"Forged"}}).Status(http.StatusForbidden)

			// Nothing changed: one client, enabled, its secret still works.
			list := admin.Get(base).Status(http.StatusOK)
			if got := list.TestIDs("client-name"); len(got) != 1 || got[0] != "Lab sync" {
				t.Errorf("listed %v", got)
			}
			if list.TestID("client-status") != "Enabled" {
				t.Errorf("status %q", list.TestID("client-status"))
			}
			app.Client().ClientToken(id, secret)
		})
	}
}
