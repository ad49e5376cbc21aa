package models_test

import (
	"errors"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/testdb"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// countRows counts rows of table matching where.
func countRows(t *testing.T, db *gorm.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A deleted project is gone for every member at once, on every way in:
// the project list, a session's and an access token's resolution, the
// operator's view, its API clients; a super admin can restore it, and both
// acts are in the project's audit log and the operator's.
func TestDeleteProjectHidesEverywhere(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			bob := testdb.NewUser(t, w.sys, "bob@example.org")
			alpha := w.sys.Tenant(w.alpha.ID)
			if _, err := alpha.AddMember(ctx, audit.Actor{}, bob.ID, false, nil); err != nil {
				t.Fatal(err)
			}
			client, secret, err := alpha.CreateClient(ctx, audit.Actor{}, clients.Input{Name: "Sync"})
			if err != nil {
				t.Fatal(err)
			}
			bobToken := session(t, w.sys, "bob-token", &bob.ID, "{}", time.Now().Add(time.Hour))
			// An account scoped to the project, as a patient who registered
			// into it has, with a session.
			scopedID := uuid.NewString()
			if err := db.DB.Exec(`INSERT INTO users (id, project_id, first_name, last_name, email, created_at, updated_at)
				VALUES (?, ?, 'Pat', 'Ient', 'pat@example.org', ?, ?)`, scopedID, w.alpha.ID, kit.Now(), kit.Now()).Error; err != nil {
				t.Fatal(err)
			}
			scopedToken := session(t, w.sys, "scoped-token", &scopedID, "{}", time.Now().Add(time.Hour))
			if !resolve(t, w.sys, scopedToken, models.AllProjects).SignedIn() {
				t.Fatal("the scoped account's session before the deletion")
			}
			by := audit.Actor{UserID: w.ada.ID, Email: w.ada.Email}

			if _, err := alpha.DeleteProject(ctx, by, "Alpha"); kit.FieldErrors(err)["confirm"] == "" {
				t.Fatalf("a wrong name deletes: %v", err)
			}
			if _, err := alpha.Project(ctx); err != nil {
				t.Fatalf("after a wrong name: %v", err)
			}
			deleted, err := alpha.DeleteProject(ctx, by, "  alpha   clinic ")
			if kit.FieldErrors(err)["confirm"] == "" {
				t.Fatalf("a name in another case deletes: %v", err)
			}
			deleted, err = alpha.DeleteProject(ctx, by, "Alpha Clinic")
			if err != nil || !deleted.Deleted() {
				t.Fatalf("delete: %+v %v", deleted, err)
			}

			for _, u := range []string{bob.ID, w.ada.ID} {
				ps, err := w.sys.ProjectsOf(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range ps {
					if p.Project.ID == w.alpha.ID {
						t.Errorf("%s still lists the deleted project", u)
					}
				}
				if _, err := w.sys.Access(ctx, u, w.alpha.ID); !errors.Is(err, kit.ErrNotFound) {
					t.Errorf("%s still has access: %v", u, err)
				}
			}
			if _, err := resolve(t, w.sys, bobToken, w.alpha.ID).Access(w.alpha.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("bob's session enters the deleted project: %v", err)
			}
			if resolve(t, w.sys, scopedToken, models.AllProjects).SignedIn() {
				t.Error("the session of an account scoped to the deleted project is still signed in")
			}
			if all := resolve(t, w.sys, w.adaToken, models.AllProjects); len(all.Projects) != 1 || all.Projects[0].Project.ID != w.beta.ID {
				t.Errorf("ada's projects: %+v", all.ProjectsOf())
			}
			if _, err := alpha.Project(ctx); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the store still reads its project: %v", err)
			}
			if _, err := w.opsCaller.Operate(ctx, w.alpha.ID, "/", "10.0.0.1"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the operator's view opens a deleted project: %v", err)
			}
			if _, err := w.sys.AuthenticateClient(ctx, client.ID, secret); !errors.Is(err, clients.ErrBadClient) {
				t.Errorf("a deleted project's client authenticates: %v", err)
			}
			if _, err := w.sys.ResolveClient(ctx, w.alpha.ID, client.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a deleted project's client resolves: %v", err)
			}
			page, err := w.sys.AllProjectsPage(ctx, models.ProjectQuery{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				if r.Project.ID == w.alpha.ID {
					t.Error("the dashboard's project list shows a deleted project")
				}
			}
			if _, err := alpha.DeleteProject(ctx, by, "Alpha Clinic"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("deleted twice: %v", err)
			}

			list, err := w.sys.DeletedProjects(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Project.ID != w.alpha.ID || list[0].DeletedByEmail != w.ada.Email || !list[0].Project.Deleted() {
				t.Fatalf("deleted projects: %+v", list)
			}
			if n := countRows(t, db.DB, "audit_events", "project_id = ? AND action = ?", w.alpha.ID, audit.ActionProjectDeleted); n != 1 {
				t.Errorf("project.deleted in the project's log: %d", n)
			}
			if n := countRows(t, db.DB, "operator_events", "target = ? AND action = ? AND user_id = ?", "Project/"+w.alpha.ID,
				audit.ActionProjectDeleted, w.ada.ID); n != 1 {
				t.Errorf("project.deleted in the operator's log: %d", n)
			}

			ops := audit.Actor{UserID: w.ops.ID, Email: w.ops.Email}
			if _, err := w.sys.RestoreProject(ctx, ops, w.alpha.ID, "Beta Lab"); kit.FieldErrors(err)["confirm"] == "" {
				t.Fatalf("restore with a wrong name: %v", err)
			}
			if _, err := w.sys.RestoreProject(ctx, ops, w.beta.ID, "Beta Lab"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("restore of a live project: %v", err)
			}
			restored, err := w.sys.RestoreProject(ctx, ops, w.alpha.ID, "Alpha Clinic")
			if err != nil || restored.Deleted() || restored.Name != "Alpha Clinic" {
				t.Fatalf("restore: %+v %v", restored, err)
			}
			if _, err := resolve(t, w.sys, bobToken, w.alpha.ID).Access(w.alpha.ID); err != nil {
				t.Errorf("bob after the restore: %v", err)
			}
			if !resolve(t, w.sys, scopedToken, models.AllProjects).SignedIn() {
				t.Error("the scoped account's session after the restore")
			}
			if _, err := w.sys.AuthenticateClient(ctx, client.ID, secret); err != nil {
				t.Errorf("the client after the restore: %v", err)
			}
			if n := countRows(t, db.DB, "audit_events", "project_id = ? AND action = ?", w.alpha.ID, audit.ActionProjectRestored); n != 1 {
				t.Errorf("project.restored in the project's log: %d", n)
			}
			if n := countRows(t, db.DB, "operator_events", "target = ? AND action = ? AND user_id = ?", "Project/"+w.alpha.ID,
				audit.ActionProjectRestored, w.ops.ID); n != 1 {
				t.Errorf("project.restored in the operator's log: %d", n)
			}
			if list, err := w.sys.DeletedProjects(ctx); err != nil || len(list) != 0 {
				t.Errorf("deleted projects after the restore: %+v %v", list, err)
			}
		})
	}
}

// An invitation sent before its project was deleted cannot be accepted
// while it is (the project is gone for everyone, the invited too), nor can
// anyone be added; after a restore it can.
func TestDeletedProjectTakesNoMembers(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			alpha := w.sys.Tenant(w.alpha.ID)
			by := audit.Actor{UserID: w.ada.ID, Email: w.ada.Email}
			inv, err := alpha.Invite(ctx, by, members.InviteInput{Email: "nia@example.org"}, mail.Letter{})
			if err != nil {
				t.Fatal(err)
			}
			nia := verify(t, w.sys, testdb.NewUser(t, w.sys, "nia@example.org"))
			bob := testdb.NewUser(t, w.sys, "bob@example.org")
			if _, err := alpha.DeleteProject(ctx, by, "Alpha Clinic"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.AcceptInvitation(ctx, nia, inv.Invitation.ID, ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("accepting an invitation to a deleted project: %v, want not found", err)
			}
			if _, err := alpha.AddMember(ctx, by, bob.ID, false, nil); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("adding a member to a deleted project: %v, want not found", err)
			}
			if n := countRows(t, db.DB, "project_memberships", "project_id = ? AND user_id IN ?", w.alpha.ID, []string{nia.ID, bob.ID}); n != 0 {
				t.Fatalf("the deleted project took %d members", n)
			}

			if _, err := w.sys.RestoreProject(ctx, audit.Actor{UserID: w.ops.ID}, w.alpha.ID, "Alpha Clinic"); err != nil {
				t.Fatal(err)
			}
			if got, err := w.sys.AcceptInvitation(ctx, nia, inv.Invitation.ID, ""); err != nil || got != w.alpha.ID {
				t.Errorf("accepting after the restore: %q %v", got, err)
			}
		})
	}
}

// The last super-admin project cannot be deleted; one of two can, and its
// admins are super admins no more.
func TestDeleteLastSuperAdminProject(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			ops := audit.Actor{UserID: w.ops.ID, Email: w.ops.Email}
			if _, err := w.sys.Tenant(w.opsProject.ID).DeleteProject(ctx, ops, "Operators"); !errors.Is(err, models.ErrLastSuperAdminProject) {
				t.Fatalf("the last super-admin project: %v", err)
			}
			if err := w.sys.SetSuperAdmin(ctx, w.beta.ID, true); err != nil {
				t.Fatal(err)
			}
			if ok, err := w.sys.IsSuperAdmin(ctx, w.ada.ID); err != nil || !ok {
				t.Fatalf("ada as an admin of a super-admin project: %v %v", ok, err)
			}
			if _, err := w.sys.Tenant(w.beta.ID).DeleteProject(ctx, ops, "Beta Lab"); err != nil {
				t.Fatalf("one of two super-admin projects: %v", err)
			}
			if ok, err := w.sys.IsSuperAdmin(ctx, w.ada.ID); err != nil || ok {
				t.Errorf("ada is a super admin through a deleted project: %v %v", ok, err)
			}
			if _, err := w.sys.Tenant(w.opsProject.ID).DeleteProject(ctx, ops, "Operators"); !errors.Is(err, models.ErrLastSuperAdminProject) {
				t.Errorf("the last live super-admin project: %v", err)
			}
		})
	}
}

// The retention sweep expunges a deleted project once its retention has
// passed, on a clock the test sets; not before, and never a restored or
// live one. The operator's log keeps each expunge.
func TestExpungeDeletedAfterRetention(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			by := audit.Actor{UserID: w.ada.ID, Email: w.ada.Email}
			alpha := w.sys.Tenant(w.alpha.ID)
			testdb.MustCreate(t, alpha, `{"resourceType":"Patient","name":[{"family":"Gone"}]}`)
			if _, err := alpha.DeleteProject(ctx, by, "Alpha Clinic"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.Tenant(w.beta.ID).DeleteProject(ctx, by, "Beta Lab"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.RestoreProject(ctx, by, w.beta.ID, "Beta Lab"); err != nil {
				t.Fatal(err)
			}
			week := models.DefaultDeletedRetention
			now := time.Now()
			got, err := w.sys.ExpungeDeleted(ctx, week, now.Add(week-time.Minute))
			if err != nil || len(got) != 0 {
				t.Fatalf("before the retention: %+v %v", got, err)
			}
			if n := countRows(t, db.DB, "projects", "id = ?", w.alpha.ID); n != 1 {
				t.Fatalf("expunged early: %d", n)
			}
			got, err = w.sys.ExpungeDeleted(ctx, week, now.Add(week+time.Minute))
			if err != nil || len(got) != 1 || got[0].Project.ID != w.alpha.ID || got[0].Resources < 1 {
				t.Fatalf("after the retention: %+v %v", got, err)
			}
			if n := countRows(t, db.DB, "projects", "id = ?", w.alpha.ID); n != 0 {
				t.Errorf("the project row is still there: %d", n)
			}
			for _, id := range []string{w.beta.ID, w.opsProject.ID} {
				if n := countRows(t, db.DB, "projects", "id = ?", id); n != 1 {
					t.Errorf("a live project went: %s", id)
				}
			}
			if n := countRows(t, db.DB, "operator_events", "target = ? AND action = ? AND actor_email = ?", "Project/"+w.alpha.ID,
				audit.ActionProjectExpunged, models.RetentionActor); n != 1 {
				t.Errorf("the expunge in the operator's log: %d", n)
			}
			if list, err := w.sys.DeletedProjects(ctx); err != nil || len(list) != 0 {
				t.Errorf("deleted projects after the sweep: %+v %v", list, err)
			}
			if got, err := w.sys.ExpungeDeleted(ctx, week, now.Add(2*week)); err != nil || len(got) != 0 {
				t.Errorf("a second sweep: %+v %v", got, err)
			}
		})
	}
}
