package models_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"
)

func TestMembershipProfiles(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			bob, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Bob", LastName: "Builder", Email: "bob@example.org", Password: "password-123"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			if err != nil {
				t.Fatal(err)
			}
			other, err := sys.CreateProject(ctx, bob.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			tn := sys.Tenant(p.ID)

			m, err := tn.Membership(ctx, ada.ID)
			if err != nil || m.ProfileType != "Practitioner" || m.ProfileID == nil {
				t.Fatalf("creator's membership %+v, %v: want a Practitioner profile", m, err)
			}
			prof := readPractitioner(t, tn, *m.ProfileID)
			if prof.Name[0].Family != "Lovelace" || prof.Name[0].Given[0] != "Ada" || prof.Telecom[0].Value != "ada@example.org" {
				t.Errorf("profile %+v", prof)
			}
			// It is indexed like any resource: a name search finds it.
			q, err := resources.ParseSearch("Practitioner", url.Values{"name": {"lovel"}}, false)
			if err != nil {
				t.Fatal(err)
			}
			found, err := tn.Search(ctx, q)
			if err != nil || found.Total != 1 || found.Resources[0].ID != *m.ProfileID {
				t.Errorf("search for the profile by name: %+v, %v", found, err)
			}
			// The profile lives in its project only.
			if _, err := sys.Tenant(other.ID).ReadResource(ctx, "Practitioner", *m.ProfileID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("another project reads the profile: %v", err)
			}

			added, err := tn.AddMember(ctx, audit.Actor{UserID: ada.ID}, bob.ID, false, nil)
			if err != nil || added.ProfileID == nil {
				t.Fatalf("added member %+v, %v", added, err)
			}
			if got := readPractitioner(t, tn, *added.ProfileID); got.Name[0].Family != "Builder" {
				t.Errorf("added member's profile %+v", got)
			}

			// Memberships from before profiles existed get one on migration, once.
			if err := db.DB.Exec("UPDATE project_memberships SET profile_id = NULL, profile_type = '' WHERE id = ?", added.ID).Error; err != nil {
				t.Fatal(err)
			}
			if n, err := members.BackfillProfiles(ctx, db.DB); err != nil || n != 1 {
				t.Fatalf("backfill made %d, %v; want 1", n, err)
			}
			if n, err := members.BackfillProfiles(ctx, db.DB); err != nil || n != 0 {
				t.Errorf("second backfill made %d, %v; want 0", n, err)
			}
			again, err := tn.Membership(ctx, bob.ID)
			if err != nil || again.ProfileID == nil || *again.ProfileID == *added.ProfileID {
				t.Fatalf("backfilled membership %+v, %v", again, err)
			}
			readPractitioner(t, tn, *again.ProfileID)
		})
	}
}

type practitioner struct {
	Name []struct {
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	Telecom []struct {
		Value string `json:"value"`
	} `json:"telecom"`
	Meta struct {
		Project string `json:"project"`
	} `json:"meta"`
}

func readPractitioner(t *testing.T, tn models.Tenant, id string) practitioner {
	t.Helper()
	r, err := tn.ReadResource(ctx, "Practitioner", id)
	if err != nil {
		t.Fatalf("read profile %s: %v", id, err)
	}
	var p practitioner
	if err := json.Unmarshal(r.JSON, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Name) == 0 || len(p.Telecom) == 0 || p.Meta.Project != tn.ProjectID() {
		t.Fatalf("profile %s: %s", id, r.JSON)
	}
	return p
}
