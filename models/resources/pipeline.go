package resources

import (
	"context"
	"enclave/models/kit"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// The hot paths of the resource store (read by id, search, create) talk to
// PostgreSQL through pgx directly, on a connection of the same pool GORM
// uses, and send their statements as one pipeline: the statements travel
// together, PostgreSQL runs them in one implicit transaction that ends at the
// pipeline's Sync, and the answers come back together. So a read or a search
// costs one network round trip, and the row-level-security wall (the first
// statement of every pipeline) costs one statement, not three. Statements are
// prepared once per connection by pgx's statement cache.

// enterTenantSQL opens the row-level-security wall for the rest of the
// transaction: the project every policy compares with, and the role the
// policies apply to (see migration 00010).
const enterTenantSQL = `SELECT set_config('enclave.project_id', $1, true), set_config('role', '` + tenantRole + `', true)`

// enterSearchSQL is enterTenantSQL for searches. It also narrows the
// planner's choices, so that a search is fast on a table PostgreSQL has
// never analyzed: index scans, joined by nested loops (the statements of
// resource_search.go make every inner side a look-up by id), rather than
// scanning or hashing whole tables. A plan that has no allowed choice left
// carries the huge cost PostgreSQL gives disabled plans, which would set
// off JIT compilation (a hundred milliseconds and more); JIT is off too.
const enterSearchSQL = `SELECT set_config('enclave.project_id', $1, true), set_config('role', '` + tenantRole + `', true),
	set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true),
	set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true),
	set_config('jit', 'off', true)`

// pipelined reports whether the store can use the pipelined hot paths: on
// PostgreSQL, and not inside a transaction that GORM already holds (whose
// statements must run on that transaction's connection).
func (t Store) pipelined() bool {
	if kit.DialectOf(t.db) != kit.Postgres {
		return false
	}
	_, inTx := t.db.Statement.ConnPool.(gorm.TxCommitter)
	return !inTx
}

// withPgx runs fn with the pgx connection under one pooled connection of db.
func withPgx(ctx context.Context, db *gorm.DB, fn func(*pgx.Conn) error) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errors.New("pipeline: the PostgreSQL driver is not pgx")
		}
		return fn(c.Conn())
	})
}

// tenantPipeline sends enter (with the project id) and then each of stmts as
// one pipeline, and hands the results to read in order. A failing statement
// rolls the whole pipeline back.
func (t Store) tenantPipeline(ctx context.Context, enter string, stmts []sqlText, read func(pgx.BatchResults) error) error {
	return withPgx(ctx, t.db, func(c *pgx.Conn) error {
		b := &pgx.Batch{}
		b.Queue(enter, t.projectID)
		for _, s := range stmts {
			b.Queue(s.sql, s.args...)
		}
		if w := pipelineWatcher.Load(); w != nil {
			for _, q := range b.QueuedQueries {
				(*w)(ctx, q.SQL)
			}
		}
		br := c.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			br.Close()
			return err
		}
		if err := read(br); err != nil {
			br.Close()
			return err
		}
		return br.Close()
	})
}

// pipelineWatcher, when set, hears of every statement a pipeline sends.
var pipelineWatcher atomic.Pointer[func(context.Context, string)]

// WatchPipelines makes fn hear of every statement the pipelined hot paths
// send to PostgreSQL, with the context of the work that sends it, until stop
// is called. GORM's own statements reach its logger and callbacks, these do
// not: a test that counts what a request costs watches both. Unwatched, a
// pipeline pays one atomic load.
func WatchPipelines(fn func(ctx context.Context, sql string)) (stop func()) {
	w := &fn
	pipelineWatcher.Store(w)
	return func() { pipelineWatcher.CompareAndSwap(w, nil) }
}

// sqlText is one statement with its arguments.
type sqlText struct {
	sql  string
	args []any
}

// sqlBuf builds a statement for either way of running it: with `?`
// placeholders for GORM, or with `$n` for pgx.
type sqlBuf struct {
	b      strings.Builder
	args   []any
	dollar bool
	pg     bool // the statement is for PostgreSQL
	depth  int  // probes open around what is being written (see enter)
}

func (s *sqlBuf) w(parts ...string) *sqlBuf {
	for _, p := range parts {
		s.b.WriteString(p)
	}
	return s
}

// arg adds v and returns its placeholder.
func (s *sqlBuf) arg(v any) string {
	s.args = append(s.args, v)
	if s.dollar {
		return "$" + strconv.Itoa(len(s.args))
	}
	return "?"
}

// in renders "is one of values" for the expression before it. One value is
// a plain equality: PostgreSQL reads an index in order for "= $1", not for
// "= ANY($1)", and the search pages rely on that order.
func (s *sqlBuf) in(values []string) string {
	if len(values) == 1 {
		return " = " + s.arg(values[0])
	}
	if s.dollar {
		return " = ANY(" + s.arg(values) + ")"
	}
	return " IN " + s.arg(values)
}

func (s *sqlBuf) text() sqlText { return sqlText{sql: s.b.String(), args: s.args} }

// scanPgxResources reads a pgx result of resource rows.
func scanPgxResources(rows pgx.Rows) ([]Resource, error) {
	defer rows.Close()
	return scanResourceRows(rows)
}
