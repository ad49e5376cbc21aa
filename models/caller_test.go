package models_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"

	"github.com/google/uuid"
)

// session saves a session for userID (nil: a session without a user) and
// returns its token.
func session(t *testing.T, sys models.System, token string, userID *string, data string, expires time.Time) string {
	t.Helper()
	if err := sys.Sessions().Save(ctx, token, userID, []byte(data), expires, accounts.SessionMeta{}); err != nil {
		t.Fatal(err)
	}
	return token
}

func resolve(t *testing.T, sys models.System, token, project string) models.Caller {
	t.Helper()
	c, err := sys.ResolveCaller(ctx, token, project)
	if err != nil {
		t.Fatalf("resolve %s in %q: %v", token, project, err)
	}
	return c
}

func TestResolveCaller(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			bob := testdb.NewUser(t, sys, "bob@example.org")
			carl := testdb.NewUser(t, sys, "carl@example.org")
			beta, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			alpha, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			if err != nil {
				t.Fatal(err)
			}
			tn := sys.Tenant(alpha.ID)
			pol, err := tn.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Readers",
				Rules: []resources.PolicyRule{{ResourceType: "Patient", ReadOnly: true, HiddenFields: []string{"birthDate"}}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.AddMember(ctx, audit.Actor{}, bob.ID, false, &pol.ID); err != nil {
				t.Fatal(err)
			}
			cm, err := tn.AddMember(ctx, audit.Actor{}, carl.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.UpdateMember(ctx, audit.Actor{}, cm.ID, members.MemberUpdate{Active: false}); err != nil {
				t.Fatal(err)
			}
			later := time.Now().Add(time.Hour)
			adaTok := session(t, sys, "ada-token", &ada.ID, "ada's values", later)
			bobTok := session(t, sys, "bob-token", &bob.ID, "bob's values", later)
			carlTok := session(t, sys, "carl-token", &carl.ID, "carl's values", later)
			oldTok := session(t, sys, "old-token", &ada.ID, "stale", time.Now().Add(-time.Minute))
			anonTok := session(t, sys, "anon-token", nil, "anonymous", later)

			// A member: the session, the user, the membership and the project,
			// exactly as the single-row readers load them.
			c := resolve(t, sys, adaTok, alpha.ID)
			if string(c.Session) != "ada's values" || !c.SignedIn() || c.All {
				t.Errorf("ada in alpha: session %q, signed in %v, all %v", c.Session, c.SignedIn(), c.All)
			}
			if u, err := sys.UserByID(ctx, ada.ID); err != nil || !reflect.DeepEqual(c.User, u) {
				t.Errorf("user:\n got %+v\nwant %+v, %v", c.User, u, err)
			}
			if d := c.SessionExpires.Sub(later); d > time.Second || d < -time.Second {
				t.Errorf("session expires %v, want %v", c.SessionExpires, later)
			}
			got, err := c.Access(alpha.ID)
			want, werr := sys.Access(ctx, ada.ID, alpha.ID)
			if err != nil || werr != nil || !reflect.DeepEqual(got.ProjectAccess, want) || got.Policy != nil {
				t.Errorf("ada's access to alpha:\n got %+v (policy %v), %v\nwant %+v, %v", got.ProjectAccess, got.Policy, err, want, werr)
			}
			if len(c.Projects) != 1 {
				t.Errorf("one project asked, %d resolved", len(c.Projects))
			}
			if _, err := c.Access(beta.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a project not asked for: %v, want ErrNotFound", err)
			}

			// Every project, by name.
			c = resolve(t, sys, adaTok, models.AllProjects)
			list, err := sys.ProjectsOf(ctx, ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !c.All || !reflect.DeepEqual(c.ProjectsOf(), list) || len(list) != 2 || list[0].Project.Name != "Alpha" {
				t.Errorf("all of ada's projects:\n got %+v\nwant %+v", c.ProjectsOf(), list)
			}

			// A member with a policy gets it with the membership.
			c = resolve(t, sys, bobTok, alpha.ID)
			got, err = c.Access(alpha.ID)
			wantPol, werr := tn.AccessPolicy(ctx, pol.ID)
			if werr != nil {
				t.Fatal(werr)
			}
			if err != nil || got.Policy == nil || !reflect.DeepEqual(*got.Policy, wantPol) || *got.Membership.AccessPolicyID != pol.ID {
				t.Errorf("bob's policy:\n got %+v, %v\nwant %+v", got.Policy, err, wantPol)
			}
			if c = resolve(t, sys, bobTok, models.AllProjects); len(c.Projects) != 1 || c.Projects[0].Policy == nil {
				t.Errorf("all of bob's projects: %+v", c.Projects)
			}

			// Not a member, an inactive member, a project that does not exist
			// or is not an id: signed in, but no access, all alike.
			for _, k := range []struct{ name, token, project string }{
				{"non-member", bobTok, beta.ID},
				{"inactive member", carlTok, alpha.ID},
				{"unknown project", adaTok, uuid.NewString()},
				{"malformed project", adaTok, "alpha"},
				{"no project", adaTok, ""},
			} {
				c := resolve(t, sys, k.token, k.project)
				if _, err := c.Access(k.project); !c.SignedIn() || len(c.Projects) != 0 || !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("%s: signed in %v, projects %v, access %v; want signed in, none, ErrNotFound", k.name, c.SignedIn(), c.Projects, err)
				}
			}
			if c := resolve(t, sys, carlTok, models.AllProjects); len(c.Projects) != 0 {
				t.Errorf("an inactive membership is listed: %+v", c.Projects)
			}

			// No live session: expired, unknown, deleted.
			if err := sys.Sessions().Delete(ctx, "bob-token"); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{oldTok, "never-issued", bobTok} {
				if _, err := sys.ResolveCaller(ctx, tok, alpha.ID); !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("session %s: %v, want ErrNotFound", tok, err)
				}
			}

			// A session without a user keeps its data but is signed out.
			c = resolve(t, sys, anonTok, alpha.ID)
			if c.SignedIn() || string(c.Session) != "anonymous" || len(c.Projects) != 0 {
				t.Errorf("session without user: %+v", c)
			}
		})
	}
}

// TestAuthEpoch checks that the writes that change a caller's resolution
// move the epoch.
func TestAuthEpoch(t *testing.T) {
	db := testdb.SQLite(t)
	sys := models.NewSystem(db.DB)
	ada := testdb.NewUser(t, sys, "ada@example.org")
	bob := testdb.NewUser(t, sys, "bob@example.org")
	var p projects.Project
	var m members.ProjectMembership
	var pol resources.AccessPolicy
	steps := []struct {
		name string
		do   func() error
	}{
		{"session saved", func() error {
			return sys.Sessions().Save(ctx, "t", &ada.ID, nil, time.Now().Add(time.Hour), accounts.SessionMeta{})
		}},
		{"session deleted", func() error { return sys.Sessions().Delete(ctx, "t") }},
		{"project created", func() (err error) {
			p, err = sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			return err
		}},
		{"member added", func() (err error) {
			m, err = sys.Tenant(p.ID).AddMember(ctx, audit.Actor{}, bob.ID, false, nil)
			return err
		}},
		{"policy created", func() (err error) {
			pol, err = sys.Tenant(p.ID).CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "R"})
			return err
		}},
		{"member updated", func() error {
			_, err := sys.Tenant(p.ID).UpdateMember(ctx, audit.Actor{}, m.ID, members.MemberUpdate{Active: true, AccessPolicyID: &pol.ID})
			return err
		}},
		{"policy updated", func() error {
			_, err := sys.Tenant(p.ID).UpdateAccessPolicy(ctx, audit.Actor{}, pol.ID, resources.PolicyInput{Name: "S"})
			return err
		}},
		{"settings saved", func() error {
			_, _, err := sys.Tenant(p.ID).UpdateSettings(ctx, audit.Actor{}, projects.SettingsUpdate{Name: "Beta", StrictMode: true, Version: p.Version}, false)
			return err
		}},
		{"project flags set", func() error { return sys.SetProjectFlags(ctx, p.ID, true, true) }},
		{"super admin set", func() error { return sys.SetSuperAdmin(ctx, p.ID, true) }},
		{"member removed", func() error {
			_, err := sys.Tenant(p.ID).RemoveMember(ctx, audit.Actor{}, m.ID)
			return err
		}},
		{"invite accepted", func() error {
			inv, err := sys.Tenant(p.ID).Invite(ctx, audit.Actor{}, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				return err
			}
			nia := testdb.NewUser(t, sys, "nia@example.org")
			token, _, err := sys.IssueAccountToken(ctx, nia.ID, accounts.PurposeVerify, nia.Email, mail.Letter{})
			if err != nil {
				return err
			}
			if nia, err = sys.VerifyEmail(ctx, token); err != nil {
				return err
			}
			before := kit.AuthEpoch()
			if _, err := sys.AcceptInvitation(ctx, nia, inv.Invitation.ID, ""); err != nil {
				return err
			}
			if kit.AuthEpoch() == before {
				return errors.New("accepting did not move the epoch")
			}
			return nil
		}},
		{"expired sessions swept", func() error {
			if err := sys.Sessions().Save(ctx, "old", nil, nil, time.Now().Add(-time.Minute), accounts.SessionMeta{}); err != nil {
				return err
			}
			before := kit.AuthEpoch()
			if _, err := sys.Sessions().DeleteExpired(ctx); err != nil {
				return err
			}
			if kit.AuthEpoch() == before {
				return errors.New("the sweep did not move the epoch")
			}
			return nil
		}},
	}
	for _, s := range steps {
		before := kit.AuthEpoch()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if kit.AuthEpoch() == before {
			t.Errorf("%s: the auth epoch did not move", s.name)
		}
	}
}

// SuperAdminAmong, given a user's projects as ProjectsOf or a caller
// resolved for every project lists them, says what IsSuperAdmin says.
func TestSuperAdminAmongAgreesWithIsSuperAdmin(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			op := testdb.NewUser(t, sys, "op@example.org")
			ops, err := sys.CreateProject(ctx, op.ID, projects.NewProject{Name: "Operators"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.CreateProject(ctx, op.ID, projects.NewProject{Name: "Own"}); err != nil {
				t.Fatal(err)
			}
			tn := sys.Tenant(ops.ID)
			pol, err := tn.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Readers",
				Rules: []resources.PolicyRule{{ResourceType: "Patient"}}})
			if err != nil {
				t.Fatal(err)
			}
			member := func(email string, admin bool, policy *string, active bool) accounts.User {
				u := testdb.NewUser(t, sys, email)
				m, err := tn.AddMember(ctx, audit.Actor{}, u.ID, admin, policy)
				if err != nil {
					t.Fatal(err)
				}
				if !active {
					if _, err := tn.UpdateMember(ctx, audit.Actor{}, m.ID, members.MemberUpdate{Admin: admin, AccessPolicyID: policy}); err != nil {
						t.Fatal(err)
					}
				}
				return u
			}
			users := []accounts.User{op,
				member("plain@example.org", false, nil, true),
				member("limited@example.org", true, &pol.ID, true),
				member("former@example.org", true, nil, false),
			}
			later := time.Now().Add(time.Hour)
			check := func(flag bool) {
				t.Helper()
				for _, u := range users {
					want, err := sys.IsSuperAdmin(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					list, err := sys.ProjectsOf(ctx, u.ID)
					if err != nil {
						t.Fatal(err)
					}
					caller := resolve(t, sys, session(t, sys, uuid.NewString(), &u.ID, "", later), models.AllProjects)
					if models.SuperAdminAmong(list) != want || models.SuperAdminAmong(caller.ProjectsOf()) != want {
						t.Errorf("flag %v, %s: IsSuperAdmin %v, SuperAdminAmong disagrees", flag, u.Email, want)
					}
					if want != (flag && u.ID == op.ID) {
						t.Errorf("flag %v, %s: super admin %v", flag, u.Email, want)
					}
				}
			}
			check(false)
			if err := sys.SetSuperAdmin(ctx, ops.ID, true); err != nil {
				t.Fatal(err)
			}
			check(true)
		})
	}
}
