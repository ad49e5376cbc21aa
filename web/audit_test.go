package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// The audit log reads as text: who did what to whom, changes as before →
// after, members and policies by name. It filters by person and by days,
// and its page links keep the filter.
func TestAuditLogReadsAsText(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			pp := "/projects/" + project
			readers := ada.NewPolicy(project, "Readers")
			bob := addMember(t, app, project, "bob@example.org", false)
			bob.SignIn("bob@example.org")
			members := ada.Get(pp + "/members").Status(http.StatusOK)
			bobRow := members.Doc().Find(`[data-testid="member-row"]`).Last().AttrOr("data-member", "")
			ada.PostForm(pp+"/members/"+bobRow, url.Values{"admin": {"on"}, "active": {"on"}, "accessPolicy": {readers}}).
				Status(http.StatusSeeOther)

			log := ada.Get(pp + "/audit?action=" + audit.ActionMemberUpdated).Status(http.StatusOK)
			if got := log.TestID("audit-target"); got != "Plain Member (bob@example.org)" {
				t.Errorf("target %q, want the member's name and email", got)
			}
			if got := log.TestID("audit-details"); got != "admin: no → yes; access policy: none → “Readers”" {
				t.Errorf("details %q", got)
			}
			if got := log.TestID("audit-who-name"); got != "Test ada" {
				t.Errorf("who %q, want the actor's name", got)
			}
			log.NotContains(readers).NotContains(bobRow)

			// By person: Bob's sign-in only, in any letter case; his email
			// in a row links there.
			byBob := ada.Get(pp + "/audit?actor=" + url.QueryEscape("BOB@example.org")).Status(http.StatusOK)
			if got := byBob.TestIDs("audit-action"); len(got) != 1 || got[0] != audit.ActionSignInSucceeded {
				t.Errorf("Bob's events: %v", got)
			}
			if v := byBob.Doc().Find("#f-actor").AttrOr("value", ""); v != "BOB@example.org" {
				t.Errorf("the person field holds %q", v)
			}
			link := byBob.Doc().Find(`[data-testid="audit-who-email"]`).AttrOr("href", "")
			if !strings.Contains(link, "actor=bob%40example.org") {
				t.Errorf("the actor's link %q", link)
			}
			ada.Get(pp + "/audit?actor=" + url.QueryEscape("' OR 1=1 --")).Status(http.StatusOK).Shows("audit-empty").
				Contains("No events match these filters.")

			// By days: move the policy's creation back to 1 March.
			if err := app.DB.DB.Exec("UPDATE audit_events SET created_at = ? WHERE action = ?",
				time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC), audit.ActionPolicyCreated).Error; err != nil {
				t.Fatal(err)
			}
			march := ada.Get(pp + "/audit?from=2026-03-01&to=2026-03-01").Status(http.StatusOK)
			if got := march.TestIDs("audit-action"); len(got) != 1 || got[0] != audit.ActionPolicyCreated {
				t.Errorf("1 March: %v", got)
			}
			if got := march.TestID("audit-details"); got != "rules: Patient" {
				t.Errorf("policy details %q", got)
			}
			if got := ada.Get(pp + "/audit?from=2026-03-02").Status(http.StatusOK).TestIDs("audit-action"); len(got) == 0 ||
				strings.Contains(strings.Join(got, ","), audit.ActionPolicyCreated) {
				t.Errorf("from 2 March: %v", got)
			}

			// The pager keeps the filter.
			for i := range audit.PageSize + 1 {
				if _, err := app.Sys.Tenant(project).CreateAccessPolicy(context.Background(),
					audit.Actor{Email: "bot@example.org"}, resources.PolicyInput{Name: "P" + strings.Repeat("x", i+1)}); err != nil {
					t.Fatal(err)
				}
			}
			first := ada.Get(pp + "/audit?actor=bot%40example.org&from=2020-01-01").Status(http.StatusOK)
			older := first.Doc().Find(`[data-testid="older"]`).AttrOr("href", "")
			for _, want := range []string{"actor=bot%40example.org", "from=2020-01-01", "page=2"} {
				if !strings.Contains(older, want) {
					t.Errorf("older link %q lacks %s", older, want)
				}
			}
			second := ada.Get(older).Status(http.StatusOK)
			if n := len(second.TestIDs("audit-row")); n != 1 {
				t.Errorf("page 2 of the bot's events has %d rows, want 1", n)
			}
			if newer := second.Doc().Find(`[data-testid="newer"]`).AttrOr("href", ""); strings.Contains(newer, "page=") ||
				!strings.Contains(newer, "actor=bot%40example.org") {
				t.Errorf("newer link %q", newer)
			}
		})
	}
}
