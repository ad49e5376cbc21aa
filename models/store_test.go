package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/testdb"
)

var ctx = context.Background()

func TestUsers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			u := testdb.NewUser(t, sys, "  Ada@Example.ORG ")
			if u.Email != "ada@example.org" {
				t.Errorf("email stored as %q, want lower-case and trimmed", u.Email)
			}
			if u.PasswordHash == "" || strings.Contains(u.PasswordHash, "correct horse") {
				t.Errorf("password not hashed: %q", u.PasswordHash)
			}

			_, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "A", LastName: "B", Email: "ADA@example.org", Password: "another one"})
			if got := kit.FieldErrors(err)["email"]; !strings.Contains(got, "already exists") {
				t.Errorf("duplicate email: got %v, want an email field error", err)
			}

			_, err = sys.CreateUser(ctx, accounts.NewUser{Email: "not-an-email", Password: "short"})
			fields := kit.FieldErrors(err)
			for _, f := range []string{"firstName", "lastName", "email", "password"} {
				if fields[f] == "" {
					t.Errorf("invalid registration: no error for %s (got %v)", f, fields)
				}
			}

			if got, err := sys.Authenticate(ctx, "ADA@example.org", "correct horse"); err != nil || got.ID != u.ID {
				t.Errorf("sign in with the right password: %v, %v", got.ID, err)
			}
			for _, c := range []struct{ email, pw string }{{"ada@example.org", "wrong password"}, {"nobody@example.org", "correct horse"}} {
				if _, err := sys.Authenticate(ctx, c.email, c.pw); !errors.Is(err, accounts.ErrBadCredentials) {
					t.Errorf("sign in %s/%s: got %v, want ErrBadCredentials", c.email, c.pw, err)
				}
			}
		})
	}
}

func TestProjectsAndMembership(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			bob := testdb.NewUser(t, sys, "bob@example.org")

			p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "  Staging ", Description: "pre-prod"})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != "Staging" || !p.StrictMode || p.SuperAdmin || p.CheckReferencesOnWrite || len(p.Features) != 0 || p.DefaultPatientAccessPolicy != nil {
				t.Errorf("new project settings are not the seed defaults: %+v", p)
			}
			if _, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Dev"}); err != nil {
				t.Fatal(err)
			}

			got, err := sys.Tenant(p.ID).Project(ctx)
			if err != nil || got.Name != "Staging" || got.OwnerID == nil || *got.OwnerID != ada.ID || !got.StrictMode {
				t.Errorf("reload project: %+v, %v", got, err)
			}

			list, err := sys.ProjectsOf(ctx, ada.ID)
			if err != nil || len(list) != 2 || list[0].Project.Name != "Dev" || !list[1].Membership.Admin {
				t.Errorf("ada's projects: %+v, %v", list, err)
			}
			if list, err := sys.ProjectsOf(ctx, bob.ID); err != nil {
				t.Fatal(err)
			} else if len(list) != 0 {
				t.Errorf("bob has projects he never joined: %+v", list)
			}

			if _, err := sys.Access(ctx, bob.ID, p.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("non-member access: got %v, want ErrNotFound", err)
			}
			if _, err := sys.Access(ctx, ada.ID, "not-a-uuid"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("malformed project id: got %v, want ErrNotFound", err)
			}
			acc, err := sys.Access(ctx, ada.ID, p.ID)
			if err != nil || !acc.Membership.Admin || acc.Project.ID != p.ID {
				t.Errorf("member access: %+v, %v", acc, err)
			}
			if n, err := sys.Tenant(p.ID).MemberCount(ctx); err != nil || n != 1 {
				t.Errorf("member count = %d, %v; want 1", n, err)
			}
			members, err := sys.Tenant(p.ID).Members(ctx)
			if err != nil || len(members) != 1 || members[0].User.Email != "ada@example.org" {
				t.Errorf("members: %+v, %v", members, err)
			}

			for _, name := range []string{"", "   ", strings.Repeat("x", 201)} {
				_, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: name})
				if kit.FieldErrors(err)["projectName"] == "" {
					t.Errorf("project name %q: got %v, want a projectName error", name, err)
				}
			}
			if _, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: strings.Repeat("é", 200)}); err != nil {
				t.Errorf("a 200-character name must be accepted: %v", err)
			}
		})
	}
}

func TestSessions(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			u := testdb.NewUser(t, sys, "ada@example.org")
			s := sys.Sessions()
			if err := s.Save(ctx, "tok-1", &u.ID, []byte("payload"), time.Now().Add(time.Hour), accounts.SessionMeta{}); err != nil {
				t.Fatal(err)
			}
			if err := s.Save(ctx, "tok-1", &u.ID, []byte("payload 2"), time.Now().Add(time.Hour), accounts.SessionMeta{}); err != nil {
				t.Fatal(err)
			}
			if b, err := s.Load(ctx, "tok-1"); err != nil || string(b) != "payload 2" {
				t.Errorf("load: %q, %v", b, err)
			}
			var n int64
			if err := db.DB.Model(&accounts.Session{}).Where("id = ?", "tok-1").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Error("the session token is stored in clear; want only its hash")
			}
			if err := s.Save(ctx, "old", nil, []byte("x"), time.Now().Add(-time.Minute), accounts.SessionMeta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, "old"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("expired session loaded: %v", err)
			}
			if removed, err := s.DeleteExpired(ctx); err != nil || removed != 1 {
				t.Errorf("delete expired: %d, %v", removed, err)
			}
			if err := s.Delete(ctx, "tok-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Load(ctx, "tok-1"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("deleted session loaded: %v", err)
			}
		})
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			n, err := models.Migrate(ctx, db.DB)
			if err != nil || n != 0 {
				t.Errorf("second migrate applied %d, %v; want 0, nil", n, err)
			}
		})
	}
}
