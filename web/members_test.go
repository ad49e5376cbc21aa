package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/testdb"
	"enclave/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

// inviteLink returns the link shown after an invitation, or "".
func inviteLink(r *webtest.Response) string {
	v, _ := r.Doc().Find(`[data-testid="invite-link"]`).Attr("value")
	return v
}

// linkPath is the path of an invite link on the test server.
func linkPath(app *webtest.App, link string) string {
	return strings.TrimPrefix(link, app.HTTP.URL)
}

// memberRow returns the texts of the list row of email, keyed by column.
func memberRow(t *testing.T, r *webtest.Response, email string) map[string]string {
	t.Helper()
	row := map[string]string{}
	r.Doc().Find(`[data-testid="member-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`[data-testid="member-email"]`).Text()) != email {
			return
		}
		row["id"], _ = s.Attr("data-member")
		for _, col := range []string{"name", "role", "policy", "status", "invited-by", "joined"} {
			row[col] = strings.Join(strings.Fields(s.Find(`[data-testid="member-`+col+`"]`).Text()), " ")
		}
	})
	return row
}

func TestInviteMembers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			members := "/projects/" + project + "/members"
			pol := admin.NewPolicy(project, "Readers")
			bob := app.Client()
			bob.PostForm("/register", url.Values{"firstName": {"Bob"}, "lastName": {"Builder"}, "email": {"bob@example.org"},
				"password": {"password-123"}}).RedirectsTo("/register/project")

			page := admin.Get(members).Status(http.StatusOK)
			if row := memberRow(t, page, "admin@example.org"); row["role"] != "Admin" || row["status"] != "Active" ||
				row["joined"] != time.Now().UTC().Format("2006-01-02") || !strings.Contains(row["name"], "(you)") {
				t.Errorf("admin's row: %v", row)
			}

			// An existing account joins at once; no link is shown.
			r := admin.PostForm(members+"/invite", url.Values{"email": {"BOB@example.org"}, "accessPolicy": {pol}}).Status(http.StatusOK)
			if !strings.Contains(r.TestID("notice"), "Bob Builder (bob@example.org) is now a member") || r.Has("invite-link") {
				t.Errorf("existing user: notice %q, link shown %v", r.TestID("notice"), r.Has("invite-link"))
			}
			if row := memberRow(t, r, "bob@example.org"); row["role"] != "Member" || row["policy"] != "Readers" ||
				row["status"] != "Active" || row["invited-by"] != "Test admin" {
				t.Errorf("bob's row: %v", row)
			}
			bob.Get("/projects/" + project).Status(http.StatusOK)

			// A new email: an account without a password and a link, shown once
			// (htmx gets the panel fragment).
			admin.HTMX = true
			r = admin.PostForm(members+"/invite", url.Values{"email": {"Nia@Example.org"}, "firstName": {"Nia"},
				"lastName": {"New"}, "admin": {"on"}}).Status(http.StatusOK)
			admin.HTMX = false
			if strings.Contains(r.Body, "<html") || !r.Has("members-panel") {
				t.Error("htmx invite must answer with the panel fragment")
			}
			link := inviteLink(r)
			if !strings.HasPrefix(link, app.HTTP.URL+"/invite/") || len(link) < len(app.HTTP.URL)+40 {
				t.Fatalf("invite link %q", link)
			}
			if r.Has("invite-mailed") || r.Has("invite-mail-failed") {
				t.Error("without a mail server nothing is sent and nothing fails")
			}
			if row := memberRow(t, r, "nia@example.org"); row["status"] != "Invited" || row["role"] != "Admin" {
				t.Errorf("nia's row: %v", row)
			}
			token := strings.TrimPrefix(link, app.HTTP.URL+"/invite/")
			admin.Get(members).Status(http.StatusOK).NotContains(token)
			if strings.Contains(app.Logs(), token) {
				t.Error("the invite token was logged")
			}

			// Re-inviting before acceptance replaces the link.
			r = admin.PostForm(members+"/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK)
			if !strings.Contains(r.TestID("notice"), "previous link no longer works") {
				t.Errorf("re-invite notice %q", r.TestID("notice"))
			}
			fresh := inviteLink(r)
			if fresh == "" || fresh == link {
				t.Fatalf("re-invite link %q", fresh)
			}
			app.Client().Get(linkPath(app, link)).Status(http.StatusNotFound)
			app.Client().Get(linkPath(app, fresh)).Status(http.StatusOK)

			// Errors come back inline with 422, the input kept, nothing created.
			_, other := app.SignUp("other@example.org", "Other")
			foreign := mustPolicy(t, app, other)
			cases := []struct {
				name, field, want string
				form              url.Values
			}{
				{"invalid email", "email", "valid email", url.Values{"email": {"not-an-email"}, "firstName": {"X"}, "lastName": {"Y"}}},
				{"duplicate", "email", "already a member", url.Values{"email": {"bob@example.org"}}},
				{"new user without names", "firstName", "required", url.Values{"email": {"anon@example.org"}}},
				{"policy of another project", "accessPolicy", "this project's", url.Values{"email": {"z@example.org"}, "firstName": {"Z"}, "lastName": {"Z"}, "accessPolicy": {foreign}}},
			}
			for _, c := range cases {
				for _, htmx := range []bool{false, true} {
					admin.HTMX = htmx
					r := admin.PostForm(members+"/invite", c.form).Status(http.StatusUnprocessableEntity)
					if got := r.TestID("error-" + c.field); !strings.Contains(got, c.want) {
						t.Errorf("%s (htmx %v): %s error %q", c.name, htmx, c.field, got)
					}
					if htmx == strings.Contains(r.Body, "<html") {
						t.Errorf("%s (htmx %v): wrong kind of answer", c.name, htmx)
					}
					if v, _ := r.Doc().Find("#f-email").Attr("value"); v != c.form.Get("email") {
						t.Errorf("%s: email input not kept: %q", c.name, v)
					}
				}
			}
			admin.HTMX = false
			if n := len(admin.Get(members).TestIDs("member-row")); n != 3 {
				t.Errorf("%d members after refused invitations, want 3", n)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "z@example.org"); err == nil {
				t.Error("a refused invitation created an account")
			}
			audit := admin.Get("/projects/" + project + "/audit").Status(http.StatusOK).Body
			for _, action := range []string{models.ActionMemberAdded, models.ActionMemberInvited} {
				if !strings.Contains(audit, action) {
					t.Errorf("audit log lacks %s", action)
				}
			}
		})
	}
}

// mustPolicy creates a policy in project through the store.
func mustPolicy(t *testing.T, app *webtest.App, project string) string {
	t.Helper()
	p, err := app.Sys.Tenant(project).CreateAccessPolicy(t.Context(), models.Actor{}, models.PolicyInput{Name: "Theirs"})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestAcceptInvite(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			members := "/projects/" + project + "/members"
			link := inviteLink(admin.PostForm(members+"/invite", url.Values{"email": {"nia@example.org"},
				"firstName": {"Nia"}, "lastName": {"New"}}).Status(http.StatusOK))
			path := linkPath(app, link)

			nia := app.Client()
			page := nia.Get(path).Status(http.StatusOK)
			if page.TestID("invite-project") != "Alpha" || !strings.Contains(page.Body, "nia@example.org") {
				t.Errorf("accept page: project %q", page.TestID("invite-project"))
			}
			if page.Resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("the accept page must not be cached")
			}
			// The passwordless account cannot sign in meanwhile.
			app.Client().PostForm("/signin", url.Values{"email": {"nia@example.org"}, "password": {""}}).Status(http.StatusUnauthorized)

			r := nia.PostForm(path, url.Values{"password": {"short"}, "confirm": {"short"}}).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("error-password"), "at least 8") {
				t.Errorf("short password: %q", r.TestID("error-password"))
			}
			nia.HTMX = true
			r = nia.PostForm(path, url.Values{"password": {"nia-password"}, "confirm": {"nia-passwort"}}).Status(http.StatusUnprocessableEntity)
			nia.HTMX = false
			if !strings.Contains(r.TestID("error-confirm"), "do not match") || strings.Contains(r.Body, "<html") {
				t.Errorf("mismatch: %q", r.TestID("error-confirm"))
			}
			r.NotContains("nia-password")

			nia.PostForm(path, url.Values{"password": {"nia-password"}, "confirm": {"nia-password"}}).
				Status(http.StatusSeeOther).RedirectsTo("/projects/" + project)
			home := nia.Get("/projects/" + project).Status(http.StatusOK)
			if home.TestID("project-role") != "Member" || home.Has("tab-members") {
				t.Errorf("after accepting: role %q, members tab %v", home.TestID("project-role"), home.Has("tab-members"))
			}
			nia.Get(members).Status(http.StatusForbidden)
			app.Client().PostForm("/signin", url.Values{"email": {"nia@example.org"}, "password": {"nia-password"}}).
				Status(http.StatusSeeOther).RedirectsTo("/projects/" + project)

			// The link works once.
			used := app.Client()
			r = used.Get(path).Status(http.StatusGone)
			if !strings.Contains(r.TestID("error-message"), "already been used") {
				t.Errorf("used link: %q", r.TestID("error-message"))
			}
			used.PostForm(path, url.Values{"password": {"taken-over"}, "confirm": {"taken-over"}}).Status(http.StatusGone)
			app.Client().PostForm("/signin", url.Values{"email": {"nia@example.org"}, "password": {"taken-over"}}).Status(http.StatusUnauthorized)

			// Unknown tokens say nothing about anyone.
			for _, bad := range []string{"/invite/nope", path + "x", "/invite/" + strings.Repeat("a", 300)} {
				r := app.Client().Get(bad).Status(http.StatusNotFound)
				r.NotContains("Alpha").NotContains("nia@example.org")
				if !strings.Contains(r.TestID("error-message"), "not valid") {
					t.Errorf("%s: %q", bad, r.TestID("error-message"))
				}
			}

			// An expired link.
			late := linkPath(app, inviteLink(admin.PostForm(members+"/invite", url.Values{"email": {"late@example.org"},
				"firstName": {"Lee"}, "lastName": {"Late"}}).Status(http.StatusOK)))
			if err := db.DB.Exec("UPDATE invites SET expires_at = ? WHERE used_at IS NULL", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
				t.Fatal(err)
			}
			r = app.Client().Get(late).Status(http.StatusGone)
			if !strings.Contains(r.TestID("error-message"), "expired") {
				t.Errorf("expired link: %q", r.TestID("error-message"))
			}
			r.NotContains("Alpha")
			app.Client().PostForm(late, url.Values{"password": {"late-password"}, "confirm": {"late-password"}}).Status(http.StatusGone)

			audit := admin.Get("/projects/" + project + "/audit?action=" + models.ActionInviteAccepted).Status(http.StatusOK)
			if n := len(audit.TestIDs("audit-details")); n != 1 {
				t.Errorf("%d invite.accepted events, want 1", n)
			}
			if logs := app.Logs(); strings.Contains(logs, strings.TrimPrefix(path, "/invite/")) || !strings.Contains(logs, "path=/invite/[token]") {
				t.Error("invite requests must be logged with the token replaced")
			}
		})
	}
}

// A person invited to two projects before choosing a password uses one link;
// the other then asks them to sign in instead of replacing the password.
func TestSecondInviteAfterAccepting(t *testing.T) {
	app := webtest.New(t, testdb.SQLite(t))
	admin, alpha := app.SignUp("admin@example.org", "Alpha")
	beta := admin.NewProject("Beta")
	first := linkPath(app, inviteLink(admin.PostForm("/projects/"+alpha+"/members/invite", url.Values{"email": {"two@example.org"},
		"firstName": {"Tess"}, "lastName": {"Two"}}).Status(http.StatusOK)))
	second := linkPath(app, inviteLink(admin.PostForm("/projects/"+beta+"/members/invite", url.Values{"email": {"two@example.org"}}).Status(http.StatusOK)))
	if first == "" || second == "" {
		t.Fatal("both invitations must give a link")
	}
	app.Client().PostForm(first, url.Values{"password": {"tess-password"}, "confirm": {"tess-password"}}).Status(http.StatusSeeOther)

	c := app.Client()
	r := c.Get(second).Status(http.StatusOK)
	if !r.Has("invite-has-account") || r.Has("accept-invite-form") {
		t.Fatal("the second link must ask to sign in")
	}
	c.PostForm(second, url.Values{"password": {"new-password"}, "confirm": {"new-password"}}).RedirectsTo("/signin?next=/projects/" + beta)
	c.PostForm("/signin", url.Values{"email": {"two@example.org"}, "password": {"tess-password"}, "next": {"/projects/" + beta}}).
		RedirectsTo("/projects/" + beta)
	c.Get("/projects/" + beta).Status(http.StatusOK)
}

func TestEditAndRemoveMembers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			members := "/projects/" + project + "/members"
			pol := admin.NewPolicy(project, "Readers")
			bob := addMember(t, app, project, "bob@example.org", false)
			list := admin.Get(members)
			bobID := memberRow(t, list, "bob@example.org")["id"]
			adminID := memberRow(t, list, "admin@example.org")["id"]

			// The last admin cannot be demoted, deactivated or removed.
			for _, form := range []url.Values{{"active": {"on"}}, {"admin": {"on"}}, {}} {
				for _, htmx := range []bool{false, true} {
					admin.HTMX = htmx
					r := admin.PostForm(members+"/"+adminID, form).Status(http.StatusUnprocessableEntity)
					if !strings.Contains(r.TestID("form-error"), "last active admin") {
						t.Errorf("%v (htmx %v): %q", form, htmx, r.TestID("form-error"))
					}
				}
			}
			admin.HTMX = false
			r := admin.PostForm(members+"/"+adminID+"/remove", nil).Status(http.StatusUnprocessableEntity)
			if !strings.Contains(r.TestID("form-error"), "last active admin") || !r.Has("confirm-remove") {
				t.Errorf("remove last admin (no JS): %q", r.TestID("form-error"))
			}
			admin.HTMX = true
			r = admin.PostForm(members+"/"+adminID+"/remove", nil).Status(http.StatusUnprocessableEntity)
			admin.HTMX = false
			if !strings.Contains(r.TestID("form-error"), "last active admin") || !r.Has("members-panel") {
				t.Errorf("remove last admin (htmx): %q", r.TestID("form-error"))
			}
			if a, err := app.Sys.Access(t.Context(), mustUser(t, app, "admin@example.org"), project); err != nil || !a.Membership.Admin {
				t.Fatalf("the refused changes took effect: %v", err)
			}

			// Edit: the form shows the saved role, saves, and refuses a foreign policy.
			edit := admin.Get(members + "/" + bobID).Status(http.StatusOK)
			if _, on := edit.Doc().Find(`[data-testid="member-active"]`).Attr("checked"); !on {
				t.Error("bob's form must show him active")
			}
			_, other := app.SignUp("other@example.org", "Other")
			admin.HTMX = true
			r = admin.PostForm(members+"/"+bobID, url.Values{"active": {"on"}, "accessPolicy": {mustPolicy(t, app, other)}}).
				Status(http.StatusUnprocessableEntity)
			admin.HTMX = false
			if !strings.Contains(r.TestID("error-accessPolicy"), "this project's") {
				t.Errorf("foreign policy: %q", r.TestID("error-accessPolicy"))
			}
			admin.PostForm(members+"/"+bobID, url.Values{"admin": {"on"}, "active": {"on"}, "accessPolicy": {pol}}).
				Status(http.StatusSeeOther).RedirectsTo(members)
			row := memberRow(t, admin.Get(members), "bob@example.org")
			if row["role"] != "Admin" || row["policy"] != "Readers" {
				t.Errorf("bob after edit: %v", row)
			}
			bob.Get(members).Status(http.StatusOK)

			// Now the first admin may step down, and lands on the project home.
			admin.PostForm(members+"/"+adminID, url.Values{"active": {"on"}}).RedirectsTo("/projects/" + project)
			admin.Get(members).Status(http.StatusForbidden)

			// Removal: a confirmation page without JavaScript, then gone.
			carol := addMember(t, app, project, "carol@example.org", false)
			carolID := memberRow(t, bob.Get(members), "carol@example.org")["id"]
			confirm := bob.Get(members + "/" + carolID + "/remove").Status(http.StatusOK)
			if !strings.Contains(confirm.Body, "carol@example.org") || !confirm.Has("confirm-remove-button") {
				t.Error("no confirmation page")
			}
			bob.PostForm(members+"/"+carolID+"/remove", nil).Status(http.StatusSeeOther).RedirectsTo(members)
			carol.Get("/projects/" + project).Status(http.StatusNotFound)
			bob.Get(members + "/" + carolID).Status(http.StatusNotFound)

			// With htmx the panel comes back with a notice.
			addMember(t, app, project, "dave@example.org", false)
			daveID := memberRow(t, bob.Get(members), "dave@example.org")["id"]
			bob.HTMX = true
			r = bob.PostForm(members+"/"+daveID+"/remove", nil).Status(http.StatusOK)
			bob.HTMX = false
			if !strings.Contains(r.TestID("notice"), "Removed") || memberRow(t, r, "dave@example.org")["id"] != "" {
				t.Errorf("htmx removal: %q", r.TestID("notice"))
			}

			audit := bob.Get("/projects/" + project + "/audit").Status(http.StatusOK).Body
			for _, action := range []string{models.ActionMemberUpdated, models.ActionMemberRemoved} {
				if !strings.Contains(audit, action) {
					t.Errorf("audit log lacks %s", action)
				}
			}
		})
	}
}

func mustUser(t *testing.T, app *webtest.App, email string) string {
	t.Helper()
	u, err := app.Sys.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// A member who is removed, deactivated or demoted loses that access on their
// very next request, with the session they already have.
func TestMembershipChangesApplyOnNextRequest(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			members := "/projects/" + project + "/members"
			bob := addMember(t, app, project, "bob@example.org", true)
			bob.Get(members).Status(http.StatusOK)
			bobID := memberRow(t, admin.Get(members), "bob@example.org")["id"]

			admin.PostForm(members+"/"+bobID, url.Values{"active": {"on"}}).RedirectsTo(members)
			bob.Get(members).Status(http.StatusForbidden)
			bob.Get("/projects/" + project).Status(http.StatusOK)

			admin.PostForm(members+"/"+bobID, url.Values{}).RedirectsTo(members)
			bob.Get("/projects/" + project).Status(http.StatusNotFound).NotContains("Alpha")
			bob.Get("/projects").NotContains("Alpha")

			admin.PostForm(members+"/"+bobID, url.Values{"active": {"on"}}).RedirectsTo(members)
			bob.Get("/projects/" + project).Status(http.StatusOK)

			admin.PostForm(members+"/"+bobID+"/remove", nil).RedirectsTo(members)
			bob.Get("/projects/" + project).Status(http.StatusNotFound)
			bob.PostForm(members+"/invite", url.Values{"email": {"x@example.org"}, "firstName": {"X"}, "lastName": {"Y"}}).
				Status(http.StatusNotFound)
		})
	}
}

// Every members route, with real ids: a plain member gets 403 and changes
// nothing; an admin of another project gets 404 for this project's ids, used
// through their own project's URLs.
func TestMembersRoutesPermissions(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			member := addMember(t, app, project, "member@example.org", false)
			list := admin.Get("/projects/" + project + "/members")
			adminID := memberRow(t, list, "admin@example.org")["id"]
			memberID := memberRow(t, list, "member@example.org")["id"]

			mallory, own := app.SignUp("mallory@example.org", "Mallory's")
			routes := 0
			for _, r := range consoleRoutes(app, project) {
				if !strings.Contains(r.Key, "/members") {
					continue
				}
				routes++
				for _, target := range []string{adminID, memberID} {
					path := fillParams(r.Path, map[string]string{":member": target})
					form := url.Values{"email": {"evil@example.org"}, "firstName": {"E"}, "lastName": {"V"}, "admin": {"on"}}
					var resp *webtest.Response
					if r.Method == http.MethodGet {
						resp = member.Get(path)
					} else {
						resp = member.PostForm(path, form)
					}
					resp.Status(http.StatusForbidden)

					foreign := strings.Replace(path, "/projects/"+project, "/projects/"+own, 1)
					if !strings.Contains(r.Key, ":member") {
						continue
					}
					if r.Method == http.MethodGet {
						resp = mallory.Get(foreign)
					} else {
						resp = mallory.PostForm(foreign, form)
					}
					resp.Status(http.StatusNotFound).NotContains("admin@example.org").NotContains("member@example.org")
				}
			}
			if routes != 6 {
				t.Errorf("%d members routes found, want 6", routes)
			}
			after := admin.Get("/projects/" + project + "/members")
			if n := len(after.TestIDs("member-row")); n != 2 {
				t.Errorf("%d members after the attempts, want 2", n)
			}
			if row := memberRow(t, after, "member@example.org"); row["role"] != "Member" || row["status"] != "Active" {
				t.Errorf("member changed: %v", row)
			}
			if row := memberRow(t, after, "admin@example.org"); row["role"] != "Admin" || row["status"] != "Active" {
				t.Errorf("admin changed: %v", row)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "evil@example.org"); err == nil {
				t.Error("a forbidden invitation created an account")
			}
		})
	}
}

func TestMemberListShowsProfiles(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("admin@example.org", "Alpha")
			addMember(t, app, project, "member@example.org", false)
			page := c.Get("/projects/" + project + "/members").Status(http.StatusOK)
			profiles := page.Doc().Find(`[data-testid="member-profile"]`)
			if profiles.Length() != 2 {
				t.Fatalf("%d profiles listed, want 2", profiles.Length())
			}
			for _, u := range []string{"admin@example.org", "member@example.org"} {
				user, err := app.Sys.UserByEmail(t.Context(), u)
				if err != nil {
					t.Fatal(err)
				}
				m, err := app.Sys.Tenant(project).Membership(t.Context(), user.ID)
				if err != nil || m.ProfileID == nil {
					t.Fatalf("%s: membership %+v, %v", u, m, err)
				}
				want := "/projects/" + project + "/resources/Practitioner/" + *m.ProfileID
				if page.Doc().Find(`[data-testid="member-profile"][href="`+want+`"]`).Length() != 1 {
					t.Errorf("%s: no link to %s", u, want)
				}
				// The link opens the Practitioner in the resource browser.
				c.Get(want).Status(http.StatusOK).Contains(u)
			}
		})
	}
}
