package projectops_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projectops"
	"enclave/models/testdb"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// rowsNaming counts, in every table with a project column (listed from the
// schema, so that a table added later is scanned too), the rows of project
// id.
func rowsNaming(t *testing.T, db *gorm.DB, id string) map[string]int64 {
	t.Helper()
	tables, err := projectops.ProjectTables(t.Context(), db)
	must(t, err)
	// Sanity: the scan sees the tables it must.
	for _, want := range []string{"resources", "resource_history", "resource_strings", "project_memberships", "invitations",
		"access_policies", "project_secrets", "client_applications", "audit_events", "users"} {
		if !strings.Contains(" "+strings.Join(tables, " ")+" ", " "+want+" ") {
			t.Fatalf("ProjectTables misses %s: %v", want, tables)
		}
	}
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		must(t, db.Raw(`SELECT COUNT(*) FROM "`+table+`" WHERE project_id = ?`, id).Scan(&n).Error)
		out[table] = n
	}
	var n int64
	must(t, db.Raw(`SELECT COUNT(*) FROM projects WHERE id = ?`, id).Scan(&n).Error)
	out["projects (id)"] = n
	return out
}

// addProjectUser makes an account scoped to the project (as patients who
// register into one project are) with a session.
func addProjectUser(t *testing.T, db *gorm.DB, projectID string) string {
	t.Helper()
	id := uuid.NewString()
	now := kit.Now()
	must(t, db.Exec(`INSERT INTO users (id, project_id, first_name, last_name, email, created_at, updated_at) VALUES (?, ?, 'P', 'U', 'pu@example.org', ?, ?)`,
		id, projectID, now, now).Error)
	must(t, db.Exec(`INSERT INTO sessions (id, user_id, data, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		uuid.NewString(), id, []byte("x"), now.Add(3600e9), now, now).Error)
	return id
}

// TestExpunge: afterwards no table with a project column has a row of the
// project, the project's accounts and their sessions are gone, other
// projects are whole, and the operator's log keeps the act.
func TestExpunge(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, db.DB)
			src := w.sys.Tenant(w.source)
			_, err := src.Invite(ctx, audit.Actor{}, members.InviteInput{Email: "invited@example.org"}, mail.Letter{})
			must(t, err)
			scoped := addProjectUser(t, db.DB, w.source)
			// A copy, whose rows must survive the expunge of the source.
			clone, err := w.sys.CloneProject(ctx, w.box, projectops.CloneInput{SourceID: w.source, Memberships: true, Actor: w.actor()})
			must(t, err)
			keep := rowsNaming(t, db.DB, clone.Project.ID)
			had := rowsNaming(t, db.DB, w.source)
			for _, table := range []string{"resources", "resource_history", "resource_strings", "resource_references", "resource_quantities", "resource_composites", "project_memberships",
				"invitations", "access_policies", "project_secrets", "client_applications", "audit_events", "users"} {
				if had[table] == 0 {
					t.Fatalf("the fixture has no %s row to expunge", table)
				}
			}

			res, err := w.sys.ExpungeProject(ctx, w.actor(), w.source)
			must(t, err)
			if res.Project.Name != "Source clinic" || res.Resources == 0 {
				t.Errorf("result %+v", res)
			}
			for table, n := range rowsNaming(t, db.DB, w.source) {
				if n != 0 {
					t.Errorf("%d rows of the expunged project are left in %s", n, table)
				}
			}
			var n int64
			must(t, db.DB.Raw("SELECT COUNT(*) FROM sessions WHERE user_id = ?", scoped).Scan(&n).Error)
			if n != 0 {
				t.Error("the sessions of the project's accounts survived")
			}
			if _, err := w.sys.AuthenticateClient(ctx, w.client.ID, w.clientSecret); err == nil {
				t.Error("the expunged project's client still signs in")
			}
			if got := rowsNaming(t, db.DB, clone.Project.ID); !maps.Equal(got, keep) {
				t.Errorf("the other project changed: %v, was %v", got, keep)
			}
			if _, err := w.sys.Tenant(clone.Project.ID).Secrets(w.box).Value(ctx, "API_KEY"); err != nil {
				t.Errorf("the copy's secret: %v", err)
			}
			// The member's own account stays; only their membership went.
			if _, err := w.sys.UserByEmail(ctx, w.member.Email); err != nil {
				t.Errorf("a server-wide account went with the project: %v", err)
			}

			log, err := audit.OperatorLog(ctx, db.DB, 10)
			must(t, err)
			if len(log) != 2 || log[0].Action != audit.ActionProjectExpunged || log[0].Target != "Project/"+w.source ||
				!strings.Contains(log[0].Details, "Source clinic") {
				t.Errorf("operator log: %+v", log)
			}
			if _, err := w.sys.ExpungeProject(ctx, w.actor(), w.source); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("expunging again: %v", err)
			}
		})
	}
}

// TestExpungeIsAtomic: a failure midway leaves every row in place.
func TestExpungeIsAtomic(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			w := newWorld(t, db.DB)
			addProjectUser(t, db.DB, w.source)
			before := dump(t, db.DB)
			for _, step := range []string{"project", "swept"} {
				restore := projectops.SetHook(func(s string) error {
					if s == step {
						return errors.New("injected failure")
					}
					return nil
				})
				_, err := w.sys.ExpungeProject(t.Context(), w.actor(), w.source)
				restore()
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("failing at %s: %v", step, err)
				}
				sameDump(t, before, dump(t, db.DB), "an expunge failing at "+step)
			}
		})
	}
}

// TestExpungeKeepsAnOperator: the only super-admin project cannot be
// expunged; once another is one, it can.
func TestExpungeKeepsAnOperator(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			w := newWorld(t, db.DB)
			if _, err := w.sys.ExpungeProject(ctx, w.actor(), w.ops); !errors.Is(err, projectops.ErrLastSuperAdmin) {
				t.Fatalf("expunging the last super-admin project: %v", err)
			}
			must(t, w.sys.SetSuperAdmin(ctx, w.source, true))
			if _, err := w.sys.ExpungeProject(ctx, w.actor(), w.ops); err != nil {
				t.Fatal(err)
			}
			if _, err := w.sys.ExpungeProject(ctx, w.actor(), w.source); !errors.Is(err, projectops.ErrLastSuperAdmin) {
				t.Errorf("expunging the new last one: %v", err)
			}
		})
	}
}

// TestSweptTables: the tables an expunge empties by hand are those whose
// project column no foreign key cascades from projects (users, whose
// project-scoped accounts have none, and on PostgreSQL the history and
// search index rows, migration 00092); resources and API clients cascade.
func TestSweptTables(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			tables, err := projectops.SweptTablesForTest(t.Context(), db.DB)
			must(t, err)
			if !slices.Contains(tables, "users") || slices.Contains(tables, "resources") || slices.Contains(tables, "client_applications") ||
				(db.Name == "postgres") != slices.Contains(tables, "resource_strings") {
				t.Errorf("swept tables: %v", tables)
			}
		})
	}
}
