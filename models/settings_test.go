package models_test

import (
	"errors"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
)

func TestUpdateSettings(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			if err != nil {
				t.Fatal(err)
			}
			other, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			tn := sys.Tenant(p.ID)
			actor := audit.Actor{UserID: ada.ID, Email: ada.Email, IP: "127.0.0.1"}
			base := projects.SettingsUpdate{Name: "Alpha", StrictMode: true, Version: p.Version}

			u := base
			u.Name, u.CheckReferencesOnWrite = "Alpha Prod", true
			saved, changes, err := tn.UpdateSettings(ctx, actor, u, false)
			if err != nil {
				t.Fatal(err)
			}
			if saved.Name != "Alpha Prod" || !saved.CheckReferencesOnWrite || saved.Version != p.Version+1 {
				t.Errorf("saved %+v", saved)
			}
			if len(changes) != 2 || changes[0].Field != "name" || changes[1].Field != "checkReferencesOnWrite" {
				t.Errorf("changes %+v", changes)
			}
			log, _, err := tn.AuditLog(ctx, audit.Filter{Action: audit.ActionSettingsUpdated})
			if err != nil || len(log) != 1 || !strings.Contains(log[0].Details, `"before":"Alpha"`) || !strings.Contains(log[0].Details, `"after":"Alpha Prod"`) || log[0].ActorEmail != "ada@example.org" {
				t.Errorf("audit %+v, %v", log, err)
			}

			// A second editor who loaded the old version is refused, and nothing is overwritten.
			stale := base
			stale.Name = "Overwritten"
			if _, _, err := tn.UpdateSettings(ctx, actor, stale, false); !errors.Is(err, kit.ErrStale) {
				t.Errorf("stale save: %v, want ErrStale", err)
			}
			if cur, err := tn.Project(ctx); err != nil {
				t.Fatal(err)
			} else if cur.Name != "Alpha Prod" {
				t.Errorf("stale save overwrote the name: %q", cur.Name)
			}

			// Strict mode off needs confirmation.
			u = base
			u.Name, u.CheckReferencesOnWrite, u.Version, u.StrictMode = "Alpha Prod", true, saved.Version, false
			if _, _, err := tn.UpdateSettings(ctx, actor, u, false); kit.FieldErrors(err)["strictMode"] == "" {
				t.Errorf("strict mode off without confirmation: %v", err)
			}
			u.ConfirmStrictOff = true
			if saved, _, err = tn.UpdateSettings(ctx, actor, u, false); err != nil || saved.StrictMode {
				t.Errorf("confirmed strict mode off: %+v, %v", saved, err)
			}

			// Features and superAdmin: refused for project admins, allowed for operators.
			features := []string{"bots", "email"}
			u.Version, u.Features = saved.Version, &features
			if _, _, err := tn.UpdateSettings(ctx, actor, u, false); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("project admin setting features: %v, want ErrForbidden", err)
			}
			on := true
			u.Features, u.SuperAdmin = nil, &on
			if _, _, err := tn.UpdateSettings(ctx, actor, u, false); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("project admin setting superAdmin: %v, want ErrForbidden", err)
			}
			u.Features, u.SuperAdmin = &features, nil
			if saved, _, err = tn.UpdateSettings(ctx, actor, u, true); err != nil || strings.Join(saved.Features, ",") != "bots,email" {
				t.Errorf("operator setting features: %+v, %v", saved.Features, err)
			}
			bad := []string{"bots", "teleport"}
			u.Version, u.Features = saved.Version, &bad
			if _, _, err := tn.UpdateSettings(ctx, actor, u, true); !strings.Contains(kit.FieldErrors(err)["features"], "teleport") {
				t.Errorf("unknown feature: %v", err)
			}

			// The default patient policy must be one of this project's.
			u.Features = nil
			otherID := insertPolicy(t, db, other.ID, "Other's policy")
			u.DefaultPatientAccessPolicy = &otherID
			if _, _, err := tn.UpdateSettings(ctx, actor, u, true); kit.FieldErrors(err)["defaultPatientAccessPolicy"] == "" {
				t.Errorf("another project's policy accepted: %v", err)
			}
			mine := insertPolicy(t, db, p.ID, "Patients")
			u.DefaultPatientAccessPolicy = &mine
			if saved, _, err = tn.UpdateSettings(ctx, actor, u, false); err != nil || saved.DefaultPatientAccessPolicy == nil || *saved.DefaultPatientAccessPolicy != mine {
				t.Errorf("own policy: %+v, %v", saved.DefaultPatientAccessPolicy, err)
			}

			for _, name := range []string{"", strings.Repeat("n", 201)} {
				u.Name, u.Version = name, saved.Version
				if _, _, err := tn.UpdateSettings(ctx, actor, u, false); kit.FieldErrors(err)["name"] == "" {
					t.Errorf("name %q accepted: %v", name, err)
				}
			}
		})
	}
}

func TestSuperAdmin(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			op := testdb.NewUser(t, sys, "op@example.org")
			ada := testdb.NewUser(t, sys, "ada@example.org")
			ops, err := sys.CreateProject(ctx, op.ID, projects.NewProject{Name: "Operators"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Ada's"}); err != nil {
				t.Fatal(err)
			}
			if is, err := sys.IsSuperAdmin(ctx, op.ID); err != nil {
				t.Fatal(err)
			} else if is {
				t.Error("super admin before the flag is set")
			}
			if err := sys.SetSuperAdmin(ctx, ops.ID, true); err != nil {
				t.Fatal(err)
			}
			if is, err := sys.IsSuperAdmin(ctx, op.ID); !is || err != nil {
				t.Errorf("member of the super-admin project: %v, %v", is, err)
			}
			if is, err := sys.IsSuperAdmin(ctx, ada.ID); err != nil {
				t.Fatal(err)
			} else if is {
				t.Error("a member of an ordinary project counts as super admin")
			}
		})
	}
}

// insertPolicy stores an access policy directly, for tests of other features.
func insertPolicy(t *testing.T, db testdb.DB, projectID, name string) string {
	t.Helper()
	pol, err := models.NewSystem(db.DB).Tenant(projectID).CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: name,
		Rules: []resources.PolicyRule{{ResourceType: "Patient"}}})
	if err != nil {
		t.Fatal(err)
	}
	return pol.ID
}
