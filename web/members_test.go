package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/resources"
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

// invitationRow returns the texts of the open invitation to email, keyed
// by column.
func invitationRow(r *webtest.Response, email string) map[string]string {
	row := map[string]string{}
	r.Doc().Find(`[data-testid="invitation-row"]`).Each(func(_ int, s *goquery.Selection) {
		if strings.TrimSpace(s.Find(`[data-testid="invitation-email"]`).Text()) != email {
			return
		}
		row["id"], _ = s.Attr("data-invitation")
		for _, col := range []string{"role", "policy", "expires"} {
			row[col] = strings.Join(strings.Fields(s.Find(`[data-testid="invitation-`+col+`"]`).Text()), " ")
		}
	})
	return row
}

// myInvitation returns the id of the first invitation the client's user sees
// after sign-in, or "".
func myInvitation(c *webtest.Client) string {
	id, _ := c.Get("/projects").Status(http.StatusOK).Doc().Find(`[data-testid="my-invitation"]`).First().Attr("data-invitation")
	return id
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

			// Inviting an address with an account says nothing about it and
			// makes nobody a member: it opens an invitation.
			r := admin.PostForm(members+"/invite", url.Values{"email": {"BOB@example.org"}, "accessPolicy": {pol}}).Status(http.StatusOK)
			if r.TestID("notice") != "Invited bob@example.org." || !r.Has("invite-link") {
				t.Errorf("notice %q, link shown %v", r.TestID("notice"), r.Has("invite-link"))
			}
			r.NotContains("Bob").NotContains("Builder")
			if row := memberRow(t, r, "bob@example.org"); len(row) != 0 {
				t.Errorf("bob is listed as a member before accepting: %v", row)
			}
			if row := invitationRow(r, "bob@example.org"); row["role"] != "Member" || row["policy"] != "Readers" {
				t.Errorf("bob's invitation: %v", row)
			}
			bob.Get("/projects/" + project).Status(http.StatusNotFound)

			// Bob accepts once his address is verified.
			id := invitationRow(r, "bob@example.org")["id"]
			if myInvitation(bob) != "" {
				t.Error("an unverified account sees invitations")
			}
			bob.Get("/projects").Shows("verify-banner")
			bob.PostForm("/invitations/"+id+"/accept", url.Values{}).Status(http.StatusForbidden)
			bob.Get("/projects/" + project).Status(http.StatusNotFound)
			bob.VerifyEmail("bob@example.org")
			if got := myInvitation(bob); got != id {
				t.Fatalf("bob's invitations after verifying: %q, want %q", got, id)
			}
			if bob.Get("/projects").Has("verify-banner") {
				t.Error("the banner stays after verifying")
			}
			bob.PostForm("/invitations/"+id+"/accept", url.Values{}).RedirectsTo("/projects/" + project)
			if role := bob.Get("/projects/" + project).Status(http.StatusOK).TestID("project-role"); role != "Member" {
				t.Errorf("bob's role %q", role)
			}
			r = admin.Get(members).Status(http.StatusOK)
			if row := memberRow(t, r, "bob@example.org"); !strings.HasPrefix(row["name"], "Bob Builder") || row["policy"] != "Readers" ||
				row["status"] != "Active" || row["invited-by"] != "Test admin" {
				t.Errorf("bob's row: %v", row)
			}
			if r.Has("invitation-row") {
				t.Error("the accepted invitation is still listed")
			}

			// A new address: a link, shown once (htmx gets the panel), and no
			// account.
			admin.HTMX = true
			r = admin.PostForm(members+"/invite", url.Values{"email": {"Nia@Example.org"}, "admin": {"on"}}).Status(http.StatusOK)
			admin.HTMX = false
			if strings.Contains(r.Body, "<html") || !r.Has("members-panel") {
				t.Error("htmx invite must answer with the panel fragment")
			}
			link := inviteLink(r)
			if !strings.HasPrefix(link, app.HTTP.URL+"/invite/") || len(link) < len(app.HTTP.URL)+40 {
				t.Fatalf("invite link %q", link)
			}
			if r.Has("invite-queued") {
				t.Error("without a mail server nothing is queued")
			}
			if row := invitationRow(r, "nia@example.org"); row["role"] != "Admin" {
				t.Errorf("nia's invitation: %v", row)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "nia@example.org"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("inviting created an account: %v", err)
			}
			token := strings.TrimPrefix(link, app.HTTP.URL+"/invite/")
			admin.Get(members).Status(http.StatusOK).NotContains(token)
			if strings.Contains(app.Logs(), token) {
				t.Error("the invite token was logged")
			}

			// Inviting again replaces the link; "New link" does the same.
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
			nid := invitationRow(r, "nia@example.org")["id"]
			renewed := inviteLink(admin.PostForm(members+"/invitations/"+nid+"/resend", url.Values{}).Status(http.StatusOK))
			if renewed == "" || renewed == fresh {
				t.Fatalf("new link %q", renewed)
			}
			app.Client().Get(linkPath(app, fresh)).Status(http.StatusNotFound)

			// Withdrawing ends the link.
			nid = invitationRow(admin.Get(members), "nia@example.org")["id"]
			admin.PostForm(members+"/invitations/"+nid+"/revoke", url.Values{}).RedirectsTo(members)
			app.Client().Get(linkPath(app, renewed)).Status(http.StatusNotFound)
			if admin.Get(members).Has("invitation-row") {
				t.Error("a withdrawn invitation is still listed")
			}
			admin.PostForm(members+"/invitations/"+nid+"/revoke", url.Values{}).Status(http.StatusNotFound)

			// Errors come back inline with 422, the input kept, nothing created.
			_, other := app.SignUp("other@example.org", "Other")
			foreign := mustPolicy(t, app, other)
			cases := []struct {
				name, field, want string
				form              url.Values
			}{
				{"invalid email", "email", "valid email", url.Values{"email": {"not-an-email"}}},
				{"duplicate", "email", "already a member", url.Values{"email": {"bob@example.org"}}},
				{"policy of another project", "accessPolicy", "this project's", url.Values{"email": {"z@example.org"}, "accessPolicy": {foreign}}},
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
			r = admin.Get(members)
			if n, m := len(r.TestIDs("member-row")), len(r.TestIDs("invitation-row")); n != 2 || m != 0 {
				t.Errorf("%d members and %d invitations after refused invitations, want 2 and 0", n, m)
			}
			log := admin.Get("/projects/" + project + "/audit").Status(http.StatusOK).Body
			for _, action := range []string{audit.ActionMemberInvited, audit.ActionInviteAccepted, audit.ActionInviteRevoked} {
				if !strings.Contains(log, action) {
					t.Errorf("audit log lacks %s", action)
				}
			}
		})
	}
}

// mustPolicy creates a policy in project through the store.
func mustPolicy(t *testing.T, app *webtest.App, project string) string {
	t.Helper()
	p, err := app.Sys.Tenant(project).CreateAccessPolicy(t.Context(), audit.Actor{}, resources.PolicyInput{Name: "Theirs"})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// TestInviteLinkPage: the page an invite link opens tells each visitor what
// they can do, and only the verified owner of the address can answer.
func TestInviteLinkPage(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			members := "/projects/" + project + "/members"
			path := linkPath(app, inviteLink(admin.PostForm(members+"/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK)))
			state := func(c *webtest.Client) string {
				r := c.Get(path).Status(http.StatusOK)
				if r.Resp.Header.Get("Cache-Control") != "no-store" || r.Resp.Header.Get("Referrer-Policy") != "no-referrer" {
					t.Error("the invite page must not be cached nor leak its address")
				}
				if r.TestID("invite-project") != "Alpha" || r.TestID("invite-email") != "nia@example.org" {
					t.Errorf("invite page: %q %q", r.TestID("invite-project"), r.TestID("invite-email"))
				}
				v, _ := r.Doc().Find(`[data-testid="invite-landing"]`).Attr("data-state")
				return v
			}
			nia := app.Client()
			if s := state(nia); s != "signed-out" {
				t.Errorf("signed out: %q", s)
			}
			nia.PostForm("/register", url.Values{"firstName": {"Nia"}, "lastName": {"New"}, "email": {"nia@example.org"},
				"password": {"password-123"}}).RedirectsTo("/register/project")
			if s := state(nia); s != "unverified" {
				t.Errorf("unverified: %q", s)
			}
			other, _ := app.SignUp("other@example.org", "Other")
			other.VerifyEmail("other@example.org")
			if s := state(other); s != "other-address" {
				t.Errorf("another account: %q", s)
			}
			nia.VerifyEmail("nia@example.org")
			if s := state(nia); s != "ready" {
				t.Errorf("verified owner: %q", s)
			}
			id := myInvitation(nia)
			other.PostForm("/invitations/"+id+"/accept", url.Values{}).Status(http.StatusNotFound)
			other.PostForm("/invitations/"+id+"/decline", url.Values{}).Status(http.StatusNotFound)
			app.Client().PostForm("/invitations/"+id+"/accept", url.Values{}).RedirectsTo("/signin")
			nia.PostFormNoCSRF("/invitations/"+id+"/accept", url.Values{}).Status(http.StatusForbidden)

			// Declining closes it without joining.
			nia.PostForm("/invitations/"+id+"/decline", url.Values{}).RedirectsTo("/projects")
			nia.Get("/projects/" + project).Status(http.StatusNotFound)
			app.Client().Get(path).Status(http.StatusNotFound)
			if myInvitation(nia) != "" {
				t.Error("a declined invitation is still offered")
			}

			// Unknown tokens say nothing about anyone.
			for _, bad := range []string{"/invite/nope", path + "x", "/invite/" + strings.Repeat("a", 300)} {
				r := app.Client().Get(bad).Status(http.StatusNotFound)
				r.NotContains("Alpha").NotContains("nia@example.org")
				if !strings.Contains(r.TestID("error-message"), "not valid") {
					t.Errorf("%s: %q", bad, r.TestID("error-message"))
				}
			}
			// An expired one cannot be accepted.
			late := linkPath(app, inviteLink(admin.PostForm(members+"/invite", url.Values{"email": {"nia@example.org"}}).Status(http.StatusOK)))
			lateID := myInvitation(nia)
			if err := db.DB.Exec("UPDATE invitations SET expires_at = ?", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
				t.Fatal(err)
			}
			r := app.Client().Get(late).Status(http.StatusGone)
			if !strings.Contains(r.TestID("error-message"), "expired") {
				t.Errorf("expired link: %q", r.TestID("error-message"))
			}
			r.NotContains("Alpha")
			nia.PostForm("/invitations/"+lateID+"/accept", url.Values{}).Status(http.StatusGone)
			if row := invitationRow(admin.Get(members), "nia@example.org"); row["expires"] != "Expired" {
				t.Errorf("expired invitation row: %v", row)
			}
			if logs := app.Logs(); strings.Contains(logs, strings.TrimPrefix(path, "/invite/")) || !strings.Contains(logs, "path=/invite/[token]") {
				t.Error("invite requests must be logged with the token replaced")
			}
		})
	}
}

// TestSquatterGainsNothing is the attack of issue 8: someone registers a
// partner's address before the admin invites it. The invitation makes them
// nothing, and the real owner takes the address back by resetting the
// password through a link sent to it.
func TestSquatterGainsNothing(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			squatter := app.Client()
			squatter.PostForm("/register", url.Values{"firstName": {"Eve"}, "lastName": {"Squat"}, "email": {"partner@example.org"},
				"password": {"squatter-pw"}}).RedirectsTo("/register/project")
			r := admin.PostForm("/projects/"+project+"/members/invite", url.Values{"email": {"partner@example.org"}, "admin": {"on"}}).Status(http.StatusOK)
			r.NotContains("Eve").NotContains("Squat")
			id := invitationRow(r, "partner@example.org")["id"]
			squatter.Get("/projects/" + project).Status(http.StatusNotFound)
			squatter.PostForm("/invitations/"+id+"/accept", url.Values{}).Status(http.StatusForbidden)
			squatter.Get("/projects/" + project).Status(http.StatusNotFound)
			// The verification link went to the server log, not to the
			// squatter: they cannot verify the address.
			if app.LoggedLink("email-verification", "partner@example.org") == "" {
				t.Fatal("the registration's verification link is not in the server log")
			}

			u, err := app.Sys.UserByEmail(t.Context(), "partner@example.org")
			if err != nil {
				t.Fatal(err)
			}
			token, _, err := app.Sys.IssueAccountToken(t.Context(), u.ID, accounts.PurposeReset, u.Email, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := app.Sys.ResetPassword(t.Context(), token, accounts.NewPassword{Password: "owner-password", Confirm: "owner-password"}); err != nil {
				t.Fatal(err)
			}
			squatter.Get("/projects").RedirectsTo("/signin")
			owner := app.Client()
			owner.PostForm("/signin", url.Values{"email": {"partner@example.org"}, "password": {"owner-password"}}).RedirectsTo("/projects")
			owner.PostForm("/invitations/"+myInvitation(owner)+"/accept", url.Values{}).RedirectsTo("/projects/" + project)
			if role := owner.Get("/projects/" + project).Status(http.StatusOK).TestID("project-role"); role != "Admin" {
				t.Errorf("owner's role %q", role)
			}
		})
	}
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

			log := bob.Get("/projects/" + project + "/audit").Status(http.StatusOK).Body
			for _, action := range []string{audit.ActionMemberUpdated, audit.ActionMemberRemoved} {
				if !strings.Contains(log, action) {
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
			invited, err := app.Sys.Tenant(project).Invite(t.Context(), audit.Actor{}, members.InviteInput{Email: "pending@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			invitationID, invitationToken := invited.Invitation.ID, invited.Token

			mallory, own := app.SignUp("mallory@example.org", "Mallory's")
			routes := 0
			for _, r := range consoleRoutes(app, project) {
				if !strings.Contains(r.Key, "/members") {
					continue
				}
				routes++
				for _, target := range []string{adminID, memberID} {
					path := fillParams(r.Path, map[string]string{":member": target, ":invitation": invitationID})
					form := url.Values{"email": {"evil@example.org"}, "firstName": {"E"}, "lastName": {"V"}, "admin": {"on"}}
					var resp *webtest.Response
					if r.Method == http.MethodGet {
						resp = member.Get(path)
					} else {
						resp = member.PostForm(path, form)
					}
					resp.Status(http.StatusForbidden)

					foreign := strings.Replace(path, "/projects/"+project, "/projects/"+own, 1)
					if !strings.Contains(r.Key, ":member") && !strings.Contains(r.Key, ":invitation") {
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
			if routes != 8 {
				t.Errorf("%d members routes found, want 8", routes)
			}
			if _, err := app.Sys.InvitationByToken(t.Context(), invitationToken); err != nil {
				t.Errorf("the invitation did not survive the attempts: %v", err)
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
