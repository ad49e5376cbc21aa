package projectops

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"enclave/models/kit"

	"gorm.io/gorm"
)

// On PostgreSQL a clone's search index rows, most of its work, are written
// by a crew of connections of their own while the clone's transaction
// copies the resources, so that the database works on as many processors
// as the crew has members. Each member reads the source in the clone's own
// snapshot (exported to it) and writes inside the copy's row-level-security
// wall; its transaction commits only once the whole clone is written, a
// moment before the clone's own. So:
//
//   - a failure anywhere before that rolls every transaction back;
//   - a failure between the crew's commits and the clone's deletes the
//     crew's rows at once;
//   - a process that dies in that moment leaves index rows of a project
//     that does not exist (no search can name it) and its row in
//     clone_intents; SweepClones, run at start and by the retention loop,
//     deletes them. The advisory lock the clone holds for as long as it
//     runs tells a sweep which intents are still running.
//
// No project is ever seen half copied: the project row, its resources and
// the removal of its intent commit together.

// crewSize is how many connections copy a clone's index rows, when the
// pool has room for them (see crewMembers).
const crewSize = 2

// crewMembers is how many members a clone's crew can have on db: crewSize,
// fewer when the pool is so small that the crew would leave too few
// connections for the clone itself (two: its transaction and its lock)
// and for the requests served meanwhile (two). None means the clone
// copies its index rows in its own transaction.
func crewMembers(db *gorm.DB) int {
	if kit.DialectOf(db) != kit.Postgres {
		return 0
	}
	pool, err := db.DB()
	if err != nil {
		return 0
	}
	if limit := pool.Stats().MaxOpenConnections; limit > 0 {
		return max(0, min(crewSize, limit-4))
	}
	return crewSize
}

// mappingSteps load the id mapping into the temporary table clone_ids of a
// PostgreSQL transaction already inside the copy's wall, and prepare it for
// the copies (see copyIndex), given the mapping's three parallel arrays.
func mappingSteps(oldTypes, oldIDs, newIDs []string) []statement {
	return []statement{
		// No key: the copies hash-join it, and a key would cost a
		// third of the loading.
		{query: `CREATE TEMP TABLE clone_ids (resource_type TEXT NOT NULL, old_id TEXT NOT NULL,
			new_id TEXT NOT NULL) ON COMMIT DROP`},
		{query: `INSERT INTO clone_ids (resource_type, old_id, new_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
			args: []any{oldTypes, oldIDs, newIDs}},
		// The planner is told how big the mapping is (autovacuum never
		// analyzes temporary tables).
		{query: "ANALYZE clone_ids"},
		{query: "SET LOCAL enable_nestloop = off"},
		{query: "SET LOCAL work_mem = '128MB'"},
	}
}

// crew is the connections copying one clone's index rows.
type crew struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	txs    []*sql.Tx
	conns  []*sql.Conn
	// committed is how many of txs committed.
	committed int
}

// statement is one SQL statement of a clone, with its arguments; table
// names the index table it copies, if it copies one (those statements
// take ? placeholders, the others PostgreSQL's $n).
type statement struct {
	table, query string
	args         []any
}

// snapshotID is the form of a PostgreSQL snapshot name, which SET
// TRANSACTION SNAPSHOT takes as a literal.
var snapshotID = regexp.MustCompile(`^[0-9A-Fa-f-]+$`)

// startCrew starts copying the index rows of c's clone on crewMembers(db)
// connections of db, reading in the snapshot of c's transaction; the
// mapping of ids is given as three parallel arrays.
func startCrew(c *cloner, db *gorm.DB, oldTypes, oldIDs, newIDs []string) (*crew, error) {
	var snapshot string
	if err := c.tx.WithContext(c.ctx).Raw("SELECT pg_export_snapshot()").Scan(&snapshot).Error; err != nil {
		return nil, err
	}
	if !snapshotID.MatchString(snapshot) {
		return nil, fmt.Errorf("clone: unexpected snapshot name %q", snapshot)
	}
	pool, err := db.DB()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.ctx)
	k := &crew{cancel: cancel}
	jobs := make(chan statement, len(copiedIndex))
	copies, err := c.indexCopies()
	if err != nil {
		cancel()
		return nil, err
	}
	for _, j := range copies {
		jobs <- j
	}
	close(jobs)
	for range crewMembers(db) {
		conn, err := pool.Conn(ctx)
		if err != nil {
			k.abort()
			return nil, err
		}
		tx, err := conn.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
		if err != nil {
			conn.Close()
			k.abort()
			return nil, err
		}
		k.conns, k.txs = append(k.conns, conn), append(k.txs, tx)
		k.wg.Go(func() {
			if err := k.work(ctx, tx, c, snapshot, jobs, oldTypes, oldIDs, newIDs); err != nil {
				k.fail(err)
			}
		})
	}
	return k, nil
}

// fail records the crew's first failure and stops the other members.
func (k *crew) fail(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.err == nil {
		k.err = err
		k.cancel()
	}
}

// work is one member: it enters the snapshot and the wall, loads the
// mapping, and runs copies until there are none left.
func (k *crew) work(ctx context.Context, tx *sql.Tx, c *cloner, snapshot string, jobs <-chan statement, oldTypes, oldIDs, newIDs []string) error {
	steps := append([]statement{
		{query: "SET TRANSACTION SNAPSHOT '" + snapshot + "'"},
		{query: "SELECT set_config('enclave.project_id', $1, true), set_config('role', $2, true), set_config('enclave.clone_source', $3, true)",
			args: []any{c.dst.ID, kit.TenantRole, c.src.ID}},
	}, mappingSteps(oldTypes, oldIDs, newIDs)...)
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return fmt.Errorf("clone index crew: %w", err)
		}
	}
	for j := range jobs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := tx.ExecContext(ctx, numbered(j.query), j.args...); err != nil {
			return fmt.Errorf("clone %s: %w", j.table, err)
		}
	}
	return nil
}

// numbered turns the ? placeholders of query into PostgreSQL's $1, $2, ...
// (the queries hold no other question mark).
func numbered(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wait waits for every copy, and reports the first failure.
func (k *crew) wait() error {
	k.wg.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.err
}

// commit commits the members' transactions, in turn.
func (k *crew) commit() error {
	for _, tx := range k.txs[k.committed:] {
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("clone index crew: commit: %w", err)
		}
		k.committed++
	}
	return nil
}

// abort rolls back what has not committed and gives the connections back.
func (k *crew) abort() {
	k.cancel()
	k.wg.Wait()
	for _, tx := range k.txs[k.committed:] {
		tx.Rollback()
	}
	k.release()
}

// release gives the connections back to the pool.
func (k *crew) release() {
	for _, c := range k.conns {
		c.Close()
	}
	k.conns = nil
	k.cancel()
}

// cloneLock is the advisory lock a clone into project holds while it
// runs, as SQL taking the project id as $1.
func cloneLock(fn string) string {
	return "SELECT " + fn + "(hashtext('enclave.clone'), hashtext($1))"
}

// beginIntent records that a clone into project dst from src is under
// way: it takes the clone's advisory lock on a connection of its own,
// held until the returned end is called, and writes the intent.
func beginIntent(ctx context.Context, db *gorm.DB, dst, src string) (end func(), err error) {
	pool, err := db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, cloneLock("pg_advisory_lock"), dst); err != nil {
		conn.Close()
		return nil, err
	}
	end = func() {
		conn.ExecContext(context.WithoutCancel(ctx), cloneLock("pg_advisory_unlock"), dst)
		conn.Close()
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO clone_intents (project_id, source_id, created_at) VALUES ($1, $2, now())", dst, src); err != nil {
		end()
		return nil, err
	}
	return end, nil
}

// dropCrewRows deletes the index rows a clone's crew wrote for project
// dst, unless dst exists, and its intent, in one transaction.
func dropCrewRows(ctx context.Context, db *gorm.DB, dst string) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM projects WHERE id = ?", dst).Scan(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			if err := enterWall(ctx, tx, dst); err != nil {
				return err
			}
			for _, s := range copiedIndex {
				if err := tx.Exec("DELETE FROM "+s.table+" WHERE project_id = ?", dst).Error; err != nil {
					return err
				}
			}
			if err := leaveWall(ctx, tx, dst); err != nil {
				return err
			}
		}
		return tx.Exec("DELETE FROM clone_intents WHERE project_id = ?", dst).Error
	})
}

// SweepClones deletes what clones that died before committing left
// behind (see above): the index rows of each intent whose clone no longer
// runs. It returns how many it swept. On SQLite, where a clone is one
// transaction, there is nothing to sweep.
func SweepClones(ctx context.Context, db *gorm.DB) (int, error) {
	if kit.DialectOf(db) != kit.Postgres {
		return 0, nil
	}
	var intents []string
	if err := db.WithContext(ctx).Raw("SELECT project_id FROM clone_intents ORDER BY created_at").Scan(&intents).Error; err != nil {
		return 0, err
	}
	pool, err := db.DB()
	if err != nil {
		return 0, err
	}
	swept := 0
	var errs []error
	for _, dst := range intents {
		conn, err := pool.Conn(ctx)
		if err != nil {
			return swept, err
		}
		var free bool
		if err := conn.QueryRowContext(ctx, cloneLock("pg_try_advisory_lock"), dst).Scan(&free); err != nil {
			conn.Close()
			return swept, err
		}
		if free {
			if err := dropCrewRows(ctx, db, dst); err != nil {
				errs = append(errs, err)
			} else {
				swept++
			}
			conn.ExecContext(context.WithoutCancel(ctx), cloneLock("pg_advisory_unlock"), dst)
		}
		conn.Close()
	}
	return swept, errors.Join(errs...)
}
