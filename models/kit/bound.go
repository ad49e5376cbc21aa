package kit

import (
	"context"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Bound is a database handle fixed to one project: the base of every
// project-bound store. Only models makes one (from a checked membership or
// for the server's own work); a domain store keeps it and filters every
// query of a project table through Scoped.
type Bound struct {
	db        *gorm.DB
	projectID string
}

// Bind fixes db to projectID.
func Bind(db *gorm.DB, projectID string) Bound { return Bound{db: db, projectID: projectID} }

// DB is the handle, for statements that filter by ProjectID themselves.
func (b Bound) DB() *gorm.DB { return b.db }

// ProjectID is the project the handle is fixed to.
func (b Bound) ProjectID() string { return b.projectID }

// Scoped starts a query on a project table, filtered to the project.
func (b Bound) Scoped(ctx context.Context) *gorm.DB {
	return b.db.WithContext(ctx).Where("project_id = ?", b.projectID)
}

// InTx runs fn with the handle inside one transaction, and moves AuthEpoch
// once the transaction has ended: what fn changed is visible to anyone who
// reads the new epoch.
func (b Bound) InTx(ctx context.Context, fn func(tx Bound) error) error {
	defer BumpAuthEpoch()
	return b.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(Bound{db: tx, projectID: b.projectID})
	})
}

// LockProject takes a row lock on the project until the transaction ends, so
// that changes that must see each other (membership, settings) run one
// after another. SQLite transactions already hold the database's write lock
// from their start. A project that is deleted (waiting for its expunge) or
// gone is ErrNotFound on both: nothing that locks it changes it any more.
func (b Bound) LockProject(ctx context.Context) error {
	q := b.db.WithContext(ctx).Table("projects").Select("id").Where("id = ? AND deleted_at IS NULL", b.projectID)
	if DialectOf(b.db) == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var row struct{ ID string }
	return NotFound(q.Take(&row).Error)
}

// CheckNameFree refuses a name that another row of model (other than
// exceptID) already has in this project, with msg on the "name" field.
func (b Bound) CheckNameFree(ctx context.Context, model any, name, exceptID, msg string) error {
	var n int64
	q := b.Scoped(ctx).Model(model).Where("name = ?", name)
	if exceptID != "" {
		q = q.Where("id <> ?", exceptID)
	}
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return &ValidationError{Fields: map[string]string{"name": msg}}
	}
	return nil
}

// TenantRole is the PostgreSQL role that row-level security holds to one
// project: a transaction that takes it sees only the rows of the project
// named in enclave.project_id, even when it connected as a superuser.
const TenantRole = "enclave_tenant"

// EnterWall puts the current transaction behind PostgreSQL's row-level
// security, in b's project, until the transaction ends: it names the
// project (enclave.project_id) and takes TenantRole, for tables whose rows
// are walled off per project. b must be a transaction; on SQLite, which
// has no such wall, it does nothing.
func (b Bound) EnterWall(ctx context.Context) error {
	return EnterWall(ctx, b.db, "enclave.project_id", b.projectID)
}

// EnterWall puts the transaction tx behind row-level security with the
// setting key (enclave.project_id, or another that a table's policy reads)
// set to value, until tx ends. On SQLite it does nothing.
func EnterWall(ctx context.Context, tx *gorm.DB, key, value string) error {
	if DialectOf(tx) != Postgres {
		return nil
	}
	return tx.WithContext(ctx).Exec("SELECT set_config(?, ?, true), set_config('role', ?, true)", key, value, TenantRole).Error
}

// Walled runs fn where the wall lets it read the project's rows: inside one
// transaction that entered it, on PostgreSQL. Inside a transaction already
// begun, the wall is left again after fn, so that the rest of it keeps its
// rights. SQLite needs no transaction (one would take its write lock), so
// fn runs on the handle itself.
func (b Bound) Walled(ctx context.Context, fn func(tx Bound) error) error {
	if DialectOf(b.db) != Postgres {
		return fn(b)
	}
	_, nested := b.db.Statement.ConnPool.(gorm.TxCommitter)
	return b.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		wall := Bound{db: tx, projectID: b.projectID}
		if err := wall.EnterWall(ctx); err != nil {
			return err
		}
		if err := fn(wall); err != nil || !nested {
			return err
		}
		return tx.Exec("SELECT set_config('role', 'none', true)").Error
	})
}
