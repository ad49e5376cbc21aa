package models_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

func TestRedirectURIRules(t *testing.T) {
	for uri, ok := range map[string]bool{
		"https://app.example.org/callback":   true,
		"https://app.example.org/cb?x=1":     true,
		"http://localhost:3000/cb":           true,
		"http://127.0.0.1/cb":                true,
		"http://[::1]:8080/cb":               true,
		"http://app.example.org/cb":          false,
		"ftp://example.org/cb":               false,
		"/callback":                          false,
		"https://app.example.org/cb#frag":    false,
		"https://user:pw@app.example.org/cb": false,
		"https://app.example.org/a b":        false,
		"https://":                           false,
	} {
		if got := clients.RedirectURIProblem(uri) == ""; got != ok {
			t.Errorf("%q accepted = %v, want %v (%s)", uri, got, ok, clients.RedirectURIProblem(uri))
		}
	}
}

func TestClients(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")
			other := testdb.ProjectStore(t, sys, "bob@example.org")
			admin := audit.Actor{Email: "ada@example.org", IP: "192.0.2.1"}

			// Validation: every field's rule, reported per field.
			_, _, err := ten.CreateClient(ctx, admin, clients.Input{Name: " ", RedirectURIs: []string{"http://example.org/cb"},
				AccessPolicyID: "no-such-policy", TokenLifetime: time.Minute})
			fields := kit.FieldErrors(err)
			for _, f := range []string{"name", "redirectUris", "tokenLifetime"} {
				if fields[f] == "" {
					t.Errorf("no error on %s: %v", f, err)
				}
			}
			_, _, err = ten.CreateClient(ctx, admin, clients.Input{Name: "Bad policy", AccessPolicyID: "no-such-policy"})
			if kit.FieldErrors(err)["accessPolicy"] == "" {
				t.Errorf("unknown policy accepted: %v", err)
			}
			otherPolicy, err := other.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Theirs", Rules: resources.PolicyRules{{ResourceType: "Patient"}}})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = ten.CreateClient(ctx, admin, clients.Input{Name: "Their policy", AccessPolicyID: otherPolicy.ID})
			if kit.FieldErrors(err)["accessPolicy"] == "" {
				t.Errorf("another project's policy accepted: %v", err)
			}

			pol, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Readers", Rules: resources.PolicyRules{{ResourceType: "Patient", ReadOnly: true}}})
			if err != nil {
				t.Fatal(err)
			}
			c, secret, err := ten.CreateClient(ctx, admin, clients.Input{Name: "  Lab   sync ", Description: "Nightly import",
				RedirectURIs:   []string{" https://lab.example.org/cb ", "", "https://lab.example.org/cb", "http://localhost:9000/cb"},
				AccessPolicyID: pol.ID})
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "Lab sync" || c.TokenLifetime != clients.DefaultTokenLifetime || !c.Enabled ||
				strings.Join(c.RedirectURIs, " ") != "https://lab.example.org/cb http://localhost:9000/cb" || kit.Deref(c.AccessPolicyID) != pol.ID {
				t.Errorf("created %+v", c)
			}
			if len(secret) != 64 {
				t.Errorf("secret %q is not 256 bits in hex", secret)
			}
			if hits := testdb.RowsContaining(t, db.DB, []byte(secret)); len(hits) > 0 {
				t.Errorf("the secret is stored in %v", hits)
			}
			if _, _, err := ten.CreateClient(ctx, admin, clients.Input{Name: "Lab sync"}); kit.FieldErrors(err)["name"] == "" {
				t.Errorf("a second client of the same name: %v", err)
			}
			if _, _, err := other.CreateClient(ctx, admin, clients.Input{Name: "Lab sync"}); err != nil {
				t.Errorf("another project may use the name: %v", err)
			}

			if kit.DialectOf(db.DB) == kit.Postgres {
				// Row-level security: an unfiltered count behind the
				// wall sees only the project's own clients.
				var n int64
				err := db.DB.Transaction(func(tx *gorm.DB) error {
					if err := kit.EnterWall(ctx, tx, "enclave.project_id", other.ProjectID()); err != nil {
						return err
					}
					return tx.Table("client_applications").Count(&n).Error
				})
				if err != nil || n != 1 {
					t.Errorf("behind the wall: %d rows, %v", n, err)
				}
			}

			// The token endpoint's look-up: right secret only, any project.
			got, err := sys.AuthenticateClient(ctx, c.ID, secret)
			if err != nil || got.ProjectID != ten.ProjectID() {
				t.Fatalf("authenticate: %+v %v", got, err)
			}
			for name, try := range map[string][2]string{
				"wrong secret": {c.ID, strings.Repeat("0", 64)}, "unknown id": {"2c1a4bde-0000-4000-8000-000000000000", secret},
				"not an id": {"lab", secret}, "empty secret": {c.ID, ""},
			} {
				if _, err := sys.AuthenticateClient(ctx, try[0], try[1]); !errors.Is(err, clients.ErrBadClient) {
					t.Errorf("%s: %v", name, err)
				}
			}

			// Isolation: another project's store sees nothing of it.
			if _, err := other.Client(ctx, c.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project reads the client: %v", err)
			}
			if _, err := other.SetClientEnabled(ctx, admin, c.ID, false); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project disables the client: %v", err)
			}
			if err := other.DeleteClient(ctx, admin, c.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("other project deletes the client: %v", err)
			}
			if list, err := other.Clients(ctx); err != nil || len(list) != 1 || list[0].ID == c.ID {
				t.Errorf("other project's list: %+v %v", list, err)
			}
			if _, err := sys.ResolveClient(ctx, other.ProjectID(), c.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("resolved in another project: %v", err)
			}

			// The policy is in use: it cannot be deleted.
			if err := ten.DeleteAccessPolicy(ctx, audit.Actor{}, pol.ID); !errors.Is(err, models.ErrPolicyInUse) {
				t.Errorf("deleting the client's policy: %v", err)
			}

			// Resolving for a token: the client enters its project under its policy.
			cc, err := sys.ResolveClient(ctx, ten.ProjectID(), c.ID)
			if err != nil || cc.Policy == nil || cc.Policy.ID != pol.ID {
				t.Fatalf("resolve: %+v %v", cc, err)
			}
			sc, err := cc.Enter()
			if err != nil || sc.Admin() || sc.User().ID != "" {
				t.Fatalf("enter: %v", err)
			}
			if got, ok := sc.Client(); !ok || got.ID != c.ID {
				t.Errorf("scope's client %+v", got)
			}
			if _, err := sc.Store().CreateResource(ctx, "Patient", []byte(`{"resourceType":"Patient"}`)); err == nil {
				t.Error("a read-only policy let the client write")
			}

			// Rotation with a grace period: both secrets work until it ends.
			now := kit.Now()
			t.Cleanup(clients.SetClockForTests(func() time.Time { return now }))
			c2, secret2, err := ten.RotateClientSecret(ctx, admin, c.ID, 2*time.Hour)
			if err != nil || secret2 == secret {
				t.Fatal(err)
			}
			if c2.RetiringUntil == nil || !c2.RetiringUntil.Equal(now.Add(2*time.Hour)) {
				t.Errorf("retiring until %v", c2.RetiringUntil)
			}
			for _, s := range []string{secret, secret2} {
				if _, err := sys.AuthenticateClient(ctx, c.ID, s); err != nil {
					t.Errorf("within the grace period: %v", err)
				}
			}
			now = now.Add(2*time.Hour + time.Second)
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret); !errors.Is(err, clients.ErrBadClient) {
				t.Errorf("the old secret after the grace period: %v", err)
			}
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret2); err != nil {
				t.Errorf("the new secret: %v", err)
			}
			if c3, err := ten.Client(ctx, c.ID); err != nil || c3.RetiringUntil != nil {
				t.Errorf("grace shown after it ended: %+v %v", c3.RetiringUntil, err)
			}
			// No grace: the old secret stops at once.
			_, secret3, err := ten.RotateClientSecret(ctx, admin, c.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret2); !errors.Is(err, clients.ErrBadClient) {
				t.Errorf("the old secret after a rotation without grace: %v", err)
			}
			if _, _, err := ten.RotateClientSecret(ctx, admin, c.ID, clients.MaxGrace+time.Hour); kit.FieldErrors(err)["grace"] == "" {
				t.Errorf("a grace period past the limit: %v", err)
			}

			// Disable: no sign-in, no scope, tokens issued before are void for good.
			issued := now.Add(-time.Minute)
			off, err := ten.SetClientEnabled(ctx, admin, c.ID, false)
			if err != nil || off.Enabled || off.TokenValid(issued) {
				t.Fatalf("disable: %+v %v", off, err)
			}
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret3); !errors.Is(err, clients.ErrBadClient) {
				t.Errorf("a disabled client signs in: %v", err)
			}
			cc, err = sys.ResolveClient(ctx, ten.ProjectID(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cc.Enter(); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a disabled client enters: %v", err)
			}
			on, err := ten.SetClientEnabled(ctx, admin, c.ID, true)
			if err != nil || !on.Enabled || on.TokenValid(issued) || !on.TokenValid(now.Add(time.Second)) {
				t.Errorf("enable: %+v %v", on, err)
			}
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret3); err != nil {
				t.Errorf("an enabled client: %v", err)
			}

			// Delete: gone for the token endpoint and for tokens.
			if err := ten.DeleteClient(ctx, admin, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.AuthenticateClient(ctx, c.ID, secret3); !errors.Is(err, clients.ErrBadClient) {
				t.Errorf("a deleted client signs in: %v", err)
			}
			if _, err := sys.ResolveClient(ctx, ten.ProjectID(), c.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a deleted client resolves: %v", err)
			}
			if err := ten.DeleteAccessPolicy(ctx, audit.Actor{}, pol.ID); err != nil {
				t.Errorf("the policy is free again: %v", err)
			}

			// Every change is in the audit log, secrets never.
			events, _, err := ten.AuditLog(ctx, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range events {
				if strings.HasPrefix(e.Action, "client.") {
					actions = append(actions, e.Action)
				}
				for _, s := range []string{secret, secret2, secret3} {
					if strings.Contains(e.Details, s) {
						t.Errorf("%s holds a secret", e.Action)
					}
				}
			}
			want := "client.deleted client.enabled client.disabled client.secret-rotated client.secret-rotated client.created"
			if strings.Join(actions, " ") != want {
				t.Errorf("audit %v", actions)
			}
		})
	}
}
