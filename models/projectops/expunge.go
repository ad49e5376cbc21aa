package projectops

import (
	"context"
	"fmt"
	"time"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrLastSuperAdmin refuses to expunge the only super-admin project: the
// server would be left without operators.
var ErrLastSuperAdmin = fmt.Errorf("%w: this is the only super-admin project; make another project a super-admin one first", kit.ErrConflict)

// ExpungeResult says what an expunge deleted.
type ExpungeResult struct {
	Project   projects.Project
	Resources int64
}

// Expunge hard-deletes project projectID and every row that belongs to it,
// in one transaction: its resources with their history and index rows,
// memberships, invitations, access policies, secrets, API clients (whose
// tokens then stop working), audit events, the accounts scoped to it and
// their sessions, then every row of every other table with a project_id
// column (listed from the schema, see sweptTables). a is recorded in the
// operator's log, which keeps the project's id and name. A missing project
// is kit.ErrNotFound; the last super-admin project is ErrLastSuperAdmin.
func Expunge(ctx context.Context, db *gorm.DB, a audit.Actor, projectID string) (ExpungeResult, error) {
	return expunge(ctx, db, a, projectID, nil)
}

// OnlySuperAdmin reports whether p is the server's only live super-admin
// project, read on tx: removing it would leave the server without
// operators.
func OnlySuperAdmin(ctx context.Context, tx *gorm.DB, p projects.Project) (bool, error) {
	if !p.SuperAdmin {
		return false, nil
	}
	var others int64
	err := tx.WithContext(ctx).Model(&projects.Project{}).Where("super_admin = ? AND id <> ?", true, p.ID).Count(&others).Error
	return others == 0, err
}

// ErrNotDue refuses ExpungeDeleted's expunge of a project that is not
// deleted (any more), or was deleted after the cutoff.
var ErrNotDue = fmt.Errorf("%w: the project is not deleted, or its retention has not passed", kit.ErrConflict)

// ExpungeDeleted expunges projectID as Expunge does, but only if it is
// deleted and was deleted before cutoff, checked under the lock that the
// expunge holds on the project's row: a restore that comes first wins
// (ErrNotDue), and one that comes later finds nothing to restore.
func ExpungeDeleted(ctx context.Context, db *gorm.DB, a audit.Actor, projectID string, cutoff time.Time) (ExpungeResult, error) {
	return expunge(ctx, db, a, projectID, func(p projects.Project) error {
		if !p.DeletedAt.Valid || !p.DeletedAt.Time.Before(cutoff) {
			return ErrNotDue
		}
		return nil
	})
}

// expunge is Expunge, with check (when given) deciding on the locked row
// whether to go on.
func expunge(ctx context.Context, db *gorm.DB, a audit.Actor, projectID string, check func(projects.Project) error) (ExpungeResult, error) {
	if !kit.IsUUID(projectID) {
		return ExpungeResult{}, kit.ErrNotFound
	}
	defer kit.BumpAuthEpoch()
	var out ExpungeResult
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx
		if kit.DialectOf(tx) == kit.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		// Unscoped: a deleted project is expunged too.
		if err := q.Unscoped().Where("id = ?", projectID).Take(&out.Project).Error; err != nil {
			return kit.NotFound(err)
		}
		if check != nil {
			if err := check(out.Project); err != nil {
				return err
			}
		}
		only, err := OnlySuperAdmin(ctx, tx, out.Project)
		if err != nil {
			return err
		}
		if only {
			return ErrLastSuperAdmin
		}
		// The project's rows are visible to the statements below even
		// where row-level security applies to the application's role.
		if err := leaveWall(ctx, tx, projectID); err != nil {
			return err
		}
		if err := tx.Raw("SELECT COUNT(*) FROM resources WHERE project_id = ?", projectID).Scan(&out.Resources).Error; err != nil {
			return err
		}
		// Accounts scoped to the project go with it, and with them (by
		// their foreign keys) their sessions, links and memberships.
		if err := tx.Exec("DELETE FROM users WHERE project_id = ?", projectID).Error; err != nil {
			return err
		}
		// First the tables with a project column that no foreign key
		// empties (one that sets the column to NULL would leave the rows
		// behind, nameless).
		tables, err := sweptTables(ctx, tx)
		if err != nil {
			return err
		}
		for _, t := range tables {
			if err := tx.Exec(`DELETE FROM "`+t+`" WHERE project_id = ?`, projectID).Error; err != nil {
				return fmt.Errorf("expunge %s: %w", t, err)
			}
		}
		if err := reach("swept"); err != nil {
			return err
		}
		// Then the project row, and by their foreign keys every row of the
		// tables that cascade from it: resources, history and index rows,
		// memberships, invitations, policies, secrets, clients, audit
		// events. Each table is emptied by one statement on its project
		// index.
		if err := tx.Exec("DELETE FROM projects WHERE id = ?", projectID).Error; err != nil {
			return err
		}
		if err := reach("project"); err != nil {
			return err
		}
		return audit.RecordOperator(ctx, tx, a, audit.ActionProjectExpunged, "Project/"+projectID,
			map[string]any{"name": out.Project.Name, "resources": out.Resources})
	})
	if err != nil {
		return ExpungeResult{}, err
	}
	return out, nil
}
