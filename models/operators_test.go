package models_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/testdb"
)

// operatorWorld is a super admin (ops), a plain user with two projects
// (ada), and the callers resolved from their sessions.
type operatorWorld struct {
	sys          models.System
	ops, ada     accounts.User
	opsProject   projects.Project
	alpha, beta  projects.Project
	opsToken     string
	adaToken     string
	opsCaller    models.Caller
	adaCallerAll models.Caller
}

func newOperatorWorld(t *testing.T, db testdb.DB) operatorWorld {
	t.Helper()
	w := operatorWorld{sys: models.NewSystem(db.DB)}
	w.ops = testdb.NewUser(t, w.sys, "ops@example.org")
	w.ada = testdb.NewUser(t, w.sys, "ada@example.org")
	var err error
	mk := func(owner string, name string) projects.Project {
		p, err := w.sys.CreateProject(ctx, owner, projects.NewProject{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.opsProject = mk(w.ops.ID, "Operators")
	if err = w.sys.SetSuperAdmin(ctx, w.opsProject.ID, true); err != nil {
		t.Fatal(err)
	}
	w.alpha, w.beta = mk(w.ada.ID, "Alpha Clinic"), mk(w.ada.ID, "Beta Lab")
	expires := time.Now().Add(time.Hour)
	w.opsToken = session(t, w.sys, "ops-token", &w.ops.ID, "{}", expires)
	w.adaToken = session(t, w.sys, "ada-token", &w.ada.ID, "{}", expires)
	w.opsCaller = resolve(t, w.sys, w.opsToken, models.AllProjects)
	w.adaCallerAll = resolve(t, w.sys, w.adaToken, models.AllProjects)
	return w
}

// An operator's view of a project is for super admins only, is an
// operator's scope, and is written to the project's audit log once an hour.
func TestOperate(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			if !w.opsCaller.SuperAdmin() || w.adaCallerAll.SuperAdmin() {
				t.Fatalf("super admin: ops %v, ada %v", w.opsCaller.SuperAdmin(), w.adaCallerAll.SuperAdmin())
			}
			if _, err := w.adaCallerAll.Operate(ctx, w.opsProject.ID, "/", "10.0.0.1"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a plain user operates: %v", err)
			}
			if _, err := w.opsCaller.Operate(ctx, "00000000-0000-0000-0000-000000000000", "/", "10.0.0.1"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("an unknown project: %v", err)
			}
			one := resolve(t, w.sys, w.opsToken, w.alpha.ID) // not every project: no operator
			if _, err := one.Operate(ctx, w.alpha.ID, "/", "10.0.0.1"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a caller resolved for one project operates: %v", err)
			}
			for range 3 {
				sc, err := w.opsCaller.Operate(ctx, w.alpha.ID, "/projects/"+w.alpha.ID, "10.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				if !sc.Operator() || !sc.Admin() || sc.Project().Name != "Alpha Clinic" || sc.User().ID != w.ops.ID {
					t.Errorf("scope: operator %v admin %v project %q", sc.Operator(), sc.Admin(), sc.Project().Name)
				}
			}
			events := auditOf(t, w.sys, w.alpha.ID, audit.ActionOperatorVisited)
			if len(events) != 1 || events[0].ActorEmail != "ops@example.org" || events[0].Target != "Alpha Clinic" {
				t.Errorf("visits in the audit log: %+v", events)
			}
			other := auditOf(t, w.sys, w.beta.ID, audit.ActionOperatorVisited)
			if len(other) != 0 {
				t.Errorf("a visit of Alpha is in Beta's log: %+v", other)
			}
		})
	}
}

func TestAllProjectsPage(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			alpha := w.sys.Tenant(w.alpha.ID)
			testdb.MustCreate(t, alpha, `{"resourceType":"Patient","name":[{"family":"One"}]}`)
			gone := testdb.MustCreate(t, alpha, `{"resourceType":"Patient","name":[{"family":"Two"}]}`)
			if err := alpha.DeleteResource(ctx, "Patient", gone.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := alpha.AddMember(ctx, audit.Actor{}, w.ops.ID, false, nil); err != nil {
				t.Fatal(err)
			}

			list, err := w.sys.AllProjectsPage(ctx, models.ProjectQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range list.Rows {
				names = append(names, r.Project.Name)
			}
			if fmt.Sprint(names) != "[Alpha Clinic Beta Lab Operators]" || list.Total != 3 || list.More {
				t.Fatalf("page: %v, total %d, more %v", names, list.Total, list.More)
			}
			// Every membership has its profile resource: Alpha holds two
			// and the live patient, Beta one.
			a := list.Rows[0]
			if a.Members != 2 || a.Resources != 3 || a.LastActivity.IsZero() {
				t.Errorf("Alpha: %d members, %d resources, last %v", a.Members, a.Resources, a.LastActivity)
			}
			if b := list.Rows[1]; b.Members != 1 || b.Resources != 1 {
				t.Errorf("Beta: %d members, %d resources", b.Members, b.Resources)
			}
			if db.Name == "postgres" && a.Bytes <= 0 {
				t.Errorf("PostgreSQL says no size for Alpha's resources: %d", a.Bytes)
			}
			if db.Name == "sqlite" && a.Bytes != -1 {
				t.Errorf("SQLite claims a size: %d", a.Bytes)
			}

			desc, err := w.sys.AllProjectsPage(ctx, models.ProjectQuery{Sort: models.SortNameDesc})
			if err != nil {
				t.Fatal(err)
			}
			if desc.Rows[0].Project.Name != "Operators" {
				t.Errorf("by name, descending, first: %s", desc.Rows[0].Project.Name)
			}
			for search, want := range map[string]string{"clinic": "Alpha Clinic", "LAB": "Beta Lab", "%": "", "_": ""} {
				got, err := w.sys.AllProjectsPage(ctx, models.ProjectQuery{Search: search})
				if err != nil {
					t.Fatal(err)
				}
				if want == "" {
					if len(got.Rows) != 0 {
						t.Errorf("search %q is taken as a wildcard: %d rows", search, len(got.Rows))
					}
					continue
				}
				if len(got.Rows) != 1 || got.Rows[0].Project.Name != want || got.Total != 1 {
					t.Errorf("search %q: %+v", search, got.Rows)
				}
			}
		})
	}
}

// TestAllProjectsPageAtTenThousand: on PostgreSQL, with 10,000 projects
// made by one bulk INSERT, a page deep in the list, sorted or searched,
// holds the right rows. (How fast is BenchmarkAllProjectsPage's business.)
func TestAllProjectsPageAtTenThousand(t *testing.T) {
	pg, ok := testdb.Postgres(t)
	if !ok {
		return
	}
	sys := models.NewSystem(pg.DB)
	bulkProjects(t, sys, 10000)
	list, err := sys.AllProjectsPage(ctx, models.ProjectQuery{Page: 101})
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 10000 || len(list.Rows) != models.DashboardPageSize || !list.More {
		t.Fatalf("page 101: total %d, %d rows, more %v", list.Total, len(list.Rows), list.More)
	}
	if first := list.Rows[0].Project.Name; first != "Bulk 05000" {
		t.Errorf("page 101 starts at %q, want Bulk 05000", first)
	}
	if last := list.Rows[len(list.Rows)-1]; last.Project.Name != "Bulk 05049" || last.Members != 1 {
		t.Errorf("page 101 ends at %q with %d members", last.Project.Name, last.Members)
	}
	found, err := sys.AllProjectsPage(ctx, models.ProjectQuery{Search: "bulk 09999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Rows) != 1 || found.Rows[0].Project.Name != "Bulk 09999" {
		t.Errorf("search: %+v", found.Rows)
	}
	newest, err := sys.AllProjectsPage(ctx, models.ProjectQuery{Sort: models.SortCreatedDesc, Page: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(newest.Rows) != models.DashboardPageSize || newest.More || newest.Rows[49].Project.Name != "Bulk 00000" {
		t.Errorf("last page, newest first: %d rows, more %v", len(newest.Rows), newest.More)
	}
}

// bulkProjects inserts n projects named "Bulk 00000"…, each created a
// second after the last, with one admin, in two statements.
func bulkProjects(t testing.TB, sys models.System, n int) {
	t.Helper()
	owner := testdb.NewUser(t, sys, "bulk@example.org")
	db := sys.DB().WithContext(ctx)
	if err := db.Exec(`INSERT INTO projects (id, name, description, features, version, created_at, updated_at)
		SELECT gen_random_uuid()::text, 'Bulk ' || lpad(i::text, 5, '0'), '', '[]', 1,
			TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second', TIMESTAMPTZ '2026-01-01' + i * INTERVAL '1 second'
		FROM generate_series(0, ?) AS i`, n-1).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`INSERT INTO project_memberships (id, project_id, user_id, admin, active, profile_type, created_at, updated_at)
		SELECT gen_random_uuid()::text, id, ?, TRUE, TRUE, 'Practitioner', created_at, created_at FROM projects WHERE name LIKE 'Bulk %'`,
		owner.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`ANALYZE projects; ANALYZE project_memberships`).Error; err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAllProjectsPage: a page deep in 10,000 projects, on PostgreSQL.
func BenchmarkAllProjectsPage(b *testing.B) {
	pg, ok := testdb.Postgres(b)
	if !ok {
		return
	}
	sys := models.NewSystem(pg.DB)
	bulkProjects(b, sys, 10000)
	for b.Loop() {
		if _, err := sys.AllProjectsPage(ctx, models.ProjectQuery{Page: 150, Sort: models.SortName}); err != nil {
			b.Fatal(err)
		}
	}
}

// Deactivating an account ends its sessions at once and refuses its
// sign-in; a temporary password must be changed; both ask for the email,
// refuse one's own account, and are audited in the account's projects.
func TestOperatorAccountActs(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			by := audit.Actor{UserID: w.ops.ID, Email: w.ops.Email, IP: "10.0.0.9"}
			for _, typed := range []string{"", "bob@example.org", "ada"} {
				_, err := w.sys.SetUserDeactivated(ctx, by, w.ada.ID, typed, true)
				if f := kit.FieldErrors(err); f["confirm"] == "" {
					t.Errorf("confirmation %q: %v", typed, err)
				}
			}
			if _, err := w.sys.SetUserDeactivated(ctx, by, w.ops.ID, w.ops.Email, true); kit.FieldErrors(err)["confirm"] == "" {
				t.Errorf("an operator deactivated themselves: %v", err)
			}
			if _, err := w.sys.SetUserDeactivated(ctx, by, "not-an-id", "x", true); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("unknown account: %v", err)
			}
			if c := resolve(t, w.sys, w.adaToken, models.AllProjects); !c.SignedIn() {
				t.Fatal("refused acts signed ada out")
			}

			if _, err := w.sys.SetUserDeactivated(ctx, by, w.ada.ID, " ADA@example.org ", true); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.ResolveCaller(ctx, w.adaToken, models.AllProjects); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("ada's session outlived the deactivation: %v", err)
			}
			if _, err := w.sys.Authenticate(ctx, "ada@example.org", "correct horse"); !errors.Is(err, accounts.ErrDeactivated) {
				t.Errorf("a deactivated account signs in: %v", err)
			}
			if _, err := w.sys.Authenticate(ctx, "ada@example.org", "wrong-password"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("a wrong password on a deactivated account: %v", err)
			}
			// A session saved for the account after all (a request in
			// flight) resolves as no one.
			late := session(t, w.sys, "late-token", &w.ada.ID, "{}", time.Now().Add(time.Hour))
			if c := resolve(t, w.sys, late, models.AllProjects); c.SignedIn() {
				t.Error("a deactivated account's session is signed in")
			}
			for _, p := range []projects.Project{w.alpha, w.beta} {
				events := auditOf(t, w.sys, p.ID, audit.ActionUserDeactivated)
				if len(events) != 1 || events[0].Target != "ada@example.org" || events[0].ActorEmail != "ops@example.org" {
					t.Errorf("%s's log: %+v", p.Name, events)
				}
			}
			if _, err := w.sys.SetUserDeactivated(ctx, by, w.ada.ID, "ada@example.org", false); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.Authenticate(ctx, "ada@example.org", "correct horse"); err != nil {
				t.Errorf("a reactivated account cannot sign in: %v", err)
			}

			ada2 := session(t, w.sys, "ada-2", &w.ada.ID, "{}", time.Now().Add(time.Hour))
			_, pw, err := w.sys.SetTemporaryPassword(ctx, by, w.ada.ID, "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			if len(pw) < 16 {
				t.Errorf("temporary password %q is short", pw)
			}
			if _, err := w.sys.ResolveCaller(ctx, ada2, models.AllProjects); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a session outlived the temporary password: %v", err)
			}
			u, err := w.sys.Authenticate(ctx, "ada@example.org", pw)
			if err != nil {
				t.Fatal(err)
			}
			if !u.MustChangePassword {
				t.Error("the temporary password need not be changed")
			}
			ada3 := session(t, w.sys, "ada-3", &w.ada.ID, "{}", time.Now().Add(time.Hour))
			if c := resolve(t, w.sys, ada3, models.AllProjects); !c.User.MustChangePassword {
				t.Error("the caller does not say the password must change")
			}
			if err := w.sys.ChangePassword(ctx, w.ada.ID, pw, accounts.NewPassword{Password: "chosen-456", Confirm: "chosen-456"}, ada3); err != nil {
				t.Fatal(err)
			}
			if c := resolve(t, w.sys, ada3, models.AllProjects); c.User.MustChangePassword {
				t.Error("changing the password left the flag")
			}
			events := auditOf(t, w.sys, w.alpha.ID, audit.ActionTemporaryPassword)
			if len(events) != 1 {
				t.Errorf("temporary password events: %+v", events)
			}
		})
	}
}

func TestServerFacts(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newOperatorWorld(t, db)
			testdb.MustCreate(t, w.sys.Tenant(w.beta.ID), `{"resourceType":"Patient"}`)
			f, err := w.sys.Facts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Dialect) != db.Name || f.Bytes <= 0 || f.Migration < 21 || f.Migrations < 17 {
				t.Errorf("facts: %+v", f)
			}
			// Each membership has its profile resource too.
			if f.Users != 2 || f.Projects != 3 || f.Memberships != 3 || f.Resources != 4 {
				t.Errorf("counts: %+v", f)
			}
		})
	}
}

// auditOf is the project's audit log of one action.
func auditOf(t *testing.T, sys models.System, projectID, action string) []audit.Event {
	t.Helper()
	events, _, err := sys.Tenant(projectID).AuditLog(ctx, audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return events
}
