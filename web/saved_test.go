package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"enclave/models/testdb"
	"enclave/web/webtest"
)

// After a save the page the browser lands on says what happened. The
// ?saved= parameter only selects a message or names the record saved, which
// the page describes from what is stored: anything else shows nothing.
func TestSaveNotices(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			pp := "/projects/" + project
			members, policies := pp+"/members", pp+"/access-policies"
			follow := func(c *webtest.Client, r *webtest.Response, prefix string) *webtest.Response {
				t.Helper()
				return c.Get(r.RedirectsTo(prefix)).Status(http.StatusOK)
			}

			// Policies: created, renamed, deleted.
			created := ada.PostForm(policies+"/new", url.Values{"name": {"Readers"}, "rows": {"1"}, "rules.0.resourceType": {"Patient"}}).
				Status(http.StatusSeeOther)
			if got := follow(ada, created, policies+"?saved=").TestID("notice"); got != "Saved policy Readers: Patient." {
				t.Errorf("after creating a policy: %q", got)
			}
			spare := ada.NewPolicy(project, "Spare")
			pol := strings.TrimPrefix(created.RedirectsTo(policies), policies+"?saved=")
			ada.HTMX = true
			renamed := ada.PostForm(policies+"/"+pol, url.Values{"name": {"<b>Readers</b>"}, "rows": {"1"},
				"rules.0.resourceType": {"Patient"}, "rules.0.readonly": {"on"}}).Status(http.StatusOK)
			ada.HTMX = false
			page := follow(ada, renamed, policies+"?saved=")
			if got := page.TestID("notice"); got != "Saved policy <b>Readers</b>: Patient (read-only)." {
				t.Errorf("after renaming a policy: %q", got)
			}
			page.Contains("&lt;b&gt;Readers&lt;/b&gt;").NotContains("<b>Readers</b>")
			deleted := ada.PostForm(policies+"/"+spare+"/delete", nil).Status(http.StatusSeeOther)
			if got := follow(ada, deleted, policies+"?saved=").TestID("notice"); got != "Deleted the access policy." {
				t.Errorf("after deleting a policy: %q", got)
			}

			// Members: a saved member is described as stored.
			addMember(t, app, project, "bob@example.org", false)
			bobID := memberRow(t, ada.Get(members), "bob@example.org")["id"]
			saved := ada.PostForm(members+"/"+bobID, url.Values{"admin": {"on"}, "active": {"on"}, "accessPolicy": {pol}}).
				Status(http.StatusSeeOther)
			if got := follow(ada, saved, members+"?saved=").TestID("notice"); got != "Saved Plain Member: admin, policy <b>Readers</b>." {
				t.Errorf("after saving a member: %q", got)
			}
			saved = ada.PostForm(members+"/"+bobID, url.Values{}).Status(http.StatusSeeOther)
			if got := follow(ada, saved, members).TestID("notice"); got != "Saved Plain Member: member, inactive, no access policy (full access)." {
				t.Errorf("after deactivating a member: %q", got)
			}
			removed := ada.PostForm(members+"/"+bobID+"/remove", nil).Status(http.StatusSeeOther)
			if got := follow(ada, removed, members).TestID("notice"); got != "Removed the member from the project." {
				t.Errorf("after removing a member: %q", got)
			}

			// An admin who steps down lands on the home page, which says so.
			addMember(t, app, project, "cy@example.org", true)
			adaID := memberRow(t, ada.Get(members), "ada@example.org")["id"]
			down := ada.PostForm(members+"/"+adaID, url.Values{"active": {"on"}}).Status(http.StatusSeeOther)
			if got := follow(ada, down, pp+"?saved=").TestID("notice"); !strings.Contains(got, "no longer one of its admins") {
				t.Errorf("after stepping down: %q", got)
			}

			// Nothing else makes a notice: not text, not another project's
			// record, not a record on the wrong page.
			cy := app.Client()
			cy.SignIn("cy@example.org")
			_, other := app.SignUp("eve@example.org", "Other")
			foreign := mustPolicy(t, app, other)
			for _, path := range []string{
				policies + "?saved=" + url.QueryEscape("<script>alert(1)</script>"),
				policies + "?saved=" + foreign,
				members + "?saved=" + pol,
				members + "?saved=" + url.QueryEscape("Saved everything"),
				pp + "?saved=role", // cy is still an admin
			} {
				if r := cy.Get(path).Status(http.StatusOK); r.Has("notice") {
					t.Errorf("%s: notice %q", path, r.TestID("notice"))
				}
			}
		})
	}
}
