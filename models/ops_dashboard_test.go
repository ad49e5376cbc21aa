package models_test

import (
	"fmt"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/projects"
	"enclave/models/testdb"

	"github.com/google/uuid"
)

// The global audit log pages by keyset through both logs merged: every
// line once, newest first, ties on the time broken by id, whatever the
// filter; the project filter takes a name (any case) or an id.
func TestGlobalAuditPages(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			alpha, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha Clinic"})
			if err != nil {
				t.Fatal(err)
			}
			beta, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Beta Lab"})
			if err != nil {
				t.Fatal(err)
			}
			base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
			// Three lines share each second, across both logs.
			for i := range 90 {
				at := base.Add(time.Duration(i/3) * time.Second)
				pid := alpha.ID
				if i%2 == 1 {
					pid = beta.ID
				}
				if i%3 == 2 {
					o := audit.OperatorEvent{ID: uuid.NewString(), ActorEmail: "ops@example.org", Action: audit.ActionProjectCloned,
						Target: "Project/" + pid, Details: "{}", CreatedAt: at, ProjectRef: pid, ProjectName: "kept name"}
					if err := db.DB.Create(&o).Error; err != nil {
						t.Fatal(err)
					}
					continue
				}
				e := audit.Event{ID: uuid.NewString(), ProjectID: &pid, ActorEmail: "Ada@Example.org", Action: audit.ActionSecretCreated,
					Target: fmt.Sprint("S", i), Details: "{}", CreatedAt: at}
				if err := db.DB.Create(&e).Error; err != nil {
					t.Fatal(err)
				}
			}
			var wantAll, wantAlpha int64
			if err := db.DB.Raw(`SELECT (SELECT COUNT(*) FROM audit_events) + (SELECT COUNT(*) FROM operator_events)`).Scan(&wantAll).Error; err != nil {
				t.Fatal(err)
			}
			if err := db.DB.Raw(`SELECT (SELECT COUNT(*) FROM audit_events WHERE project_id = ?) + (SELECT COUNT(*) FROM operator_events WHERE project_ref = ?)`,
				alpha.ID, alpha.ID).Scan(&wantAlpha).Error; err != nil {
				t.Fatal(err)
			}
			walk := func(q models.GlobalAuditQuery) []models.GlobalAuditLine {
				t.Helper()
				var out []models.GlobalAuditLine
				for pages := 0; ; pages++ {
					page, err := sys.GlobalAudit(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, page.Lines...)
					if page.Next == nil {
						return out
					}
					if pages > 10 {
						t.Fatal("the pages do not end")
					}
					// The cursor goes through a link and back.
					cur, ok := models.ParseAuditCursor(page.Next.String())
					if !ok {
						t.Fatalf("cursor %q does not read back", page.Next.String())
					}
					q.Before = &cur
				}
			}
			check := func(name string, lines []models.GlobalAuditLine, want int64) {
				t.Helper()
				if int64(len(lines)) != want {
					t.Errorf("%s: %d lines, want %d", name, len(lines), want)
				}
				seen := map[string]bool{}
				for i, l := range lines {
					if seen[l.ID] {
						t.Errorf("%s: line %s twice", name, l.ID)
					}
					seen[l.ID] = true
					if i > 0 {
						p := lines[i-1]
						if l.At.After(p.At) || (l.At.Equal(p.At) && l.ID > p.ID) {
							t.Errorf("%s: line %d (%v %s) is out of order after (%v %s)", name, i, l.At, l.ID, p.At, p.ID)
						}
					}
				}
			}
			check("all", walk(models.GlobalAuditQuery{}), wantAll)
			alphaLines := walk(models.GlobalAuditQuery{Project: "alpha CLINIC"})
			check("Alpha by name", alphaLines, wantAlpha)
			check("Alpha by id", walk(models.GlobalAuditQuery{Project: alpha.ID}), wantAlpha)
			for _, l := range alphaLines {
				if l.ProjectID != alpha.ID || l.ProjectName != "Alpha Clinic" || !l.Live {
					t.Errorf("an Alpha line: %+v", l)
				}
			}
			ops := walk(models.GlobalAuditQuery{Actor: "OPS@example.org"})
			check("ops", ops, 30)
			for _, l := range ops {
				if !l.Operator || l.Action != audit.ActionProjectCloned {
					t.Errorf("an operator's line: %+v", l)
				}
			}
			check("ada's secrets", walk(models.GlobalAuditQuery{Actor: "ada@example.org", Action: audit.ActionSecretCreated}), 60)
			check("nobody", walk(models.GlobalAuditQuery{Project: "Gamma"}), 0)
		})
	}
}

// The migration gives the operator's older lines their project's id and
// name, from the target and the details.
func TestGlobalAuditMigrationNamesOldLines(t *testing.T) {
	for _, db := range testdb.AllEmpty(t) {
		t.Run(db.Name, func(t *testing.T) {
			if err := models.MigrateTo(ctx, db.DB, 91); err != nil {
				t.Fatal(err)
			}
			pid := uuid.NewString()
			if err := db.DB.Exec(`INSERT INTO operator_events (id, action, target, details, created_at) VALUES (?, ?, ?, ?, ?)`,
				uuid.NewString(), audit.ActionProjectExpunged, "Project/"+pid, `{"name":"Old Clinic","resources":3}`, time.Now().UTC()).Error; err != nil {
				t.Fatal(err)
			}
			if err := models.MigrateTo(ctx, db.DB, 120); err != nil {
				t.Fatal(err)
			}
			var got audit.OperatorEvent
			if err := db.DB.Take(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got.ProjectRef != pid || got.ProjectName != "Old Clinic" {
				t.Errorf("after the migration: %q %q", got.ProjectRef, got.ProjectName)
			}
		})
	}
}
