// Package projectops holds the server operator's acts on whole projects:
// $clone, which copies a project (settings, secrets, access policies, API
// clients, memberships and every resource, its references rewritten) into a
// new one, and $expunge, which hard-deletes a project and every row that
// belongs to it. Each is atomic, so a failure or a kill midway leaves no
// project half copied or half deleted: an expunge is one transaction, a
// clone too but for its search index rows, which on PostgreSQL a crew of
// connections writes alongside (see crew.go for how that stays atomic).
// Both work on sets of rows (a few statements per table, resources in
// large batches), not one row at a time.
// Both are recorded in the operator's log (audit.OperatorEvent), which
// outlives the projects it names.
//
// Only super admins may call them; the web layer checks that.
package projectops

import (
	"context"

	"enclave/models/kit"

	"gorm.io/gorm"
)

// steps are a clone's or an expunge's steps, which tests may fail to prove
// that a failure midway changes nothing (see kit.Steps).
var steps kit.Steps

func reach(step string) error { return steps.Reach(step) }

// ProjectTables lists, from the database's own schema, every table that has
// a project_id column: the rows an expunge must leave none of. A table
// added later is listed without anyone having to remember it.
func ProjectTables(ctx context.Context, db *gorm.DB) ([]string, error) {
	var out []string
	q := `SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'project_id' AND t.table_type = 'BASE TABLE'
		ORDER BY c.table_name`
	if kit.DialectOf(db) != kit.Postgres {
		q = `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
			WHERE m.type = 'table' AND c.name = 'project_id' ORDER BY m.name`
	}
	err := db.WithContext(ctx).Raw(q).Scan(&out).Error
	return out, err
}

// sweptTables lists the tables with a project_id column whose rows the
// database does not delete by itself with their project (through a foreign
// key ON DELETE CASCADE to projects): an expunge deletes those rows by
// hand. Like ProjectTables it reads the schema, so a table added later is
// covered either way.
func sweptTables(ctx context.Context, db *gorm.DB) ([]string, error) {
	var out []string
	q := `SELECT cl.relname FROM pg_class cl
		JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attname = 'project_id' AND NOT a.attisdropped
		WHERE cl.relnamespace = to_regnamespace(quote_ident(current_schema())) AND cl.relkind IN ('r', 'p')
		AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = cl.oid AND k.contype = 'f' AND k.confdeltype = 'c'
			AND k.confrelid = to_regclass(quote_ident(current_schema()) || '.projects') AND k.conkey = ARRAY[a.attnum])
		ORDER BY cl.relname`
	if kit.DialectOf(db) != kit.Postgres {
		q = `SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
			WHERE m.type = 'table' AND c.name = 'project_id'
			AND NOT EXISTS (SELECT 1 FROM pragma_foreign_key_list(m.name) f
				WHERE f."from" = 'project_id' AND f."table" = 'projects' AND f.on_delete = 'CASCADE')
			ORDER BY m.name`
	}
	err := db.WithContext(ctx).Raw(q).Scan(&out).Error
	return out, err
}

// enterWall puts the rest of tx behind row-level security in projectID's
// rows (see kit.EnterWall); on SQLite it does nothing.
func enterWall(ctx context.Context, tx *gorm.DB, projectID string) error {
	return kit.EnterWall(ctx, tx, "enclave.project_id", projectID)
}

// leaveWall takes tx back to the application's own role, still naming
// projectID for the tables whose policies apply to that role too.
func leaveWall(ctx context.Context, tx *gorm.DB, projectID string) error {
	if kit.DialectOf(tx) != kit.Postgres {
		return nil
	}
	return tx.WithContext(ctx).Exec("SELECT set_config('enclave.project_id', ?, true), set_config('role', 'none', true)", projectID).Error
}

// crash, when set, makes a clone that fails after its index crew committed
// stop as a process that died there would: without deleting what the crew
// wrote (see SweepClones).
var crash bool
