package handlers

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"enclave/models/audit"
)

// The audit log tells details as text, with names for the ids it knows.
func TestAuditDetails(t *testing.T) {
	nia := audit.Person{ID: "u-nia", FirstName: "Nia", LastName: "New", Email: "nia@example.org"}
	names := audit.Names{Policies: map[string]string{"p-read": "Readers"},
		Memberships: map[string]audit.Person{"m-nia": nia}, Users: map[string]audit.Person{"u-nia": nia}}
	for _, c := range []struct {
		action, target, details string
		wantTarget, wantDetails string
	}{
		{audit.ActionMemberUpdated, "nia@example.org",
			`{"membership":"m-nia","admin":{"before":false,"after":true},"accessPolicy":{"before":null,"after":"p-read"}}`,
			"Nia New (nia@example.org)", "admin: no → yes; access policy: none → “Readers”"},
		{audit.ActionMemberUpdated, "gone@example.org",
			`{"membership":"m-gone","active":{"before":true,"after":false},"accessPolicy":{"before":"p-deleted","after":null}}`,
			"gone@example.org", "active: yes → no; access policy: a deleted policy → none"},
		{audit.ActionMemberAdded, "u-nia", `{"membership":"m-nia","admin":false}`, "Nia New (nia@example.org)", "role: member"},
		{audit.ActionMemberRemoved, "old@example.org", `{"membership":"m-old","admin":true}`, "old@example.org", "role: admin"},
		{audit.ActionMemberInvited, "new@example.org", `{"invitation":"i-1","admin":false,"reissued":true,"expiresAt":"2026-03-08T10:00:00Z"}`,
			"new@example.org", "role: member; a new link replaced the previous one; expires: 8 Mar 2026 10:00 UTC"},
		{audit.ActionSettingsUpdated, "project-id",
			`{"name":{"before":"Alpha","after":"Alpha Prod"},"strictMode":{"before":false,"after":true},"defaultPatientAccessPolicy":{"before":"","after":"p-read"},"features":{"before":[],"after":["bots","email"]}}`,
			"Project settings", "name: “Alpha” → “Alpha Prod”; strict validation: no → yes; default patient access policy: none → “Readers”; features: none → bots, email"},
		{audit.ActionPolicyCreated, "Readers", `{"id":"p-read","rules":[{"resourceType":"Patient","readonly":true},{"resourceType":"Observation"}]}`,
			"Readers", "rules: Patient (read-only), Observation"},
		{audit.ActionPolicyUpdated, "Readers",
			`{"id":"p-read","name":{"before":"Readers","after":"Readers"},"rules":{"before":[{"resourceType":"Patient"}],"after":[]}}`,
			"Readers", "rules: Patient → No access"},
		{audit.ActionSecretRenamed, "NEW_KEY", `{"id":"s-1","name":{"before":"OLD_KEY","after":"NEW_KEY"}}`, "NEW_KEY", "name: “OLD_KEY” → “NEW_KEY”"},
		{audit.ActionSecretDeleted, "API_KEY", `{"id":"s-1"}`, "API_KEY", ""},
		{audit.ActionSignInFailed, "ada@example.org", `{}`, "ada@example.org", ""},
		{audit.ActionClientCreated, "Lab sync", `{"id":"c-1","description":"","redirectUris":["https://lab.example.org/cb"],"accessPolicy":"p-read","tokenLifetime":"1h0m0s"}`,
			"Lab sync", "description: none; access policy: “Readers”; redirect URIs: https://lab.example.org/cb; token lifetime: 1 hour"},
		{audit.ActionClientSecretRotated, "Lab sync", `{"id":"c-1","oldSecretUntil":"2026-03-08T10:00:00Z"}`,
			"Lab sync", "previous secret works until: 8 Mar 2026 10:00 UTC"},
		{audit.ActionClientSecretRotated, "Lab sync", `{"id":"c-1","oldSecretUntil":null}`, "Lab sync", "previous secret works until: none"},
		{audit.ActionClientCreated, "Bot", `{"id":"c-2","tokenLifetime":"5m0s"}`, "Bot", "token lifetime: 5 minutes"},
		{audit.ActionClientDisabled, "Lab sync", `{"id":"c-1"}`, "Lab sync", ""},
		{"some.future", "x", `{"zeta":1,"alpha":"a"}`, "x", "alpha: “a”; zeta: 1"},
		{"some.future", "x", `not json`, "x", "not json"},
	} {
		e := audit.Event{Action: c.action, Target: c.target, Details: c.details}
		if got := auditTarget(e, names); got != c.wantTarget {
			t.Errorf("%s %s: target %q, want %q", c.action, c.details, got, c.wantTarget)
		}
		if got := auditDetails(e, names); got != c.wantDetails {
			t.Errorf("%s %s:\n details %q\n want    %q", c.action, c.details, got, c.wantDetails)
		}
	}
}

func TestAuditRefs(t *testing.T) {
	ada := "u-ada"
	events := []audit.Event{
		{Action: audit.ActionMemberUpdated, UserID: &ada, Details: `{"membership":"m-1","accessPolicy":{"before":"p-1","after":null}}`},
		{Action: audit.ActionMemberAdded, UserID: &ada, Target: "u-bob", Details: `{"membership":"m-2","admin":false}`},
		{Action: audit.ActionPolicyDeleted, Details: `{"id":"p-2"}`},
		{Action: audit.ActionSecretDeleted, Details: `{"id":"s-1"}`},
		{Action: audit.ActionClientCreated, Details: `{"id":"c-1","accessPolicy":"p-3"}`},
		{Action: audit.ActionSettingsUpdated, Details: `{"defaultPatientAccessPolicy":{"before":"","after":"p-1"}}`},
	}
	policies, memberships, users := auditRefs(events)
	if want := []string{"p-1", "p-2", "p-3"}; !slices.Equal(policies, want) {
		t.Errorf("policies %q, want %q", policies, want)
	}
	if want := []string{"m-1", "m-2"}; !slices.Equal(memberships, want) {
		t.Errorf("memberships %q, want %q", memberships, want)
	}
	if want := []string{"u-ada", "u-bob"}; !slices.Equal(users, want) {
		t.Errorf("users %q, want %q", users, want)
	}
}

// The filter reads days as whole UTC days, both included. What does not
// read is an error on its field, and narrows nothing.
func TestAuditFilterQuery(t *testing.T) {
	f, errs, err := bindAuditFilter(formRequest(http.MethodGet, "/audit?action=policy.created&actor=+Ada@Example.org+&from=2026-03-02&to=2026-03-04&page=2", ""))
	if err != nil || errs.Any() {
		t.Fatalf("a good filter: %+v, %v", errs, err)
	}
	q := auditQuery(f.Applied(errs))
	if q.Action != "policy.created" || q.Actor != "Ada@Example.org" || q.Page != 2 ||
		!q.From.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || !q.To.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("filter %+v", q)
	}
	if f.From.Text != "2026-03-02" || f.To.Text != "2026-03-04" || f.Actor != " Ada@Example.org " {
		t.Errorf("the filter as sent: %+v", f)
	}

	f, errs, err = bindAuditFilter(formRequest(http.MethodGet, "/audit?action=%3Cscript%3E&from=yesterday&to=2026-02-30&page=two", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"action", "from", "to", "page"} {
		if errs.Of(field) == "" {
			t.Errorf("no error on %s: %+v", field, errs)
		}
	}
	if q := auditQuery(f.Applied(errs)); q.Action != "" || !q.From.IsZero() || !q.To.IsZero() || q.Page != 1 {
		t.Errorf("bad input narrows the log: %+v", q)
	}
	if f.Action != "<script>" || f.From.Text != "yesterday" || f.To.Text != "2026-02-30" || f.Page.String() != "two" {
		t.Errorf("the filter as sent: %+v", f)
	}
	f, errs, _ = bindAuditFilter(formRequest(http.MethodGet, "/audit?page=-3", ""))
	if q := auditQuery(f.Applied(errs)); errs.Any() || q.Page != 1 {
		t.Errorf("page -3 reads as %d, %+v", q.Page, errs)
	}
}
