package resources

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"enclave/models/kit"

	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// bulkInserter runs one statement with pgx on the connection of the
// transaction's GORM handle, so that arrays travel as PostgreSQL arrays;
// nil where there is none (SQLite, or a store already inside a
// transaction), and multi-row INSERTs do instead.
type bulkInserter func(sql string, args ...any) error

// bundleTx runs fn in one write transaction under the tenant wall. On
// PostgreSQL it holds one pooled connection for the whole transaction, so
// that the set-based insert can use pgx on the same connection (and in the
// same transaction) as GORM's statements.
func (t Store) bundleTx(ctx context.Context, fn func(tx *gorm.DB, bulk bulkInserter) error) error {
	if !t.pipelined() {
		return t.tenantTx(ctx, true, func(tx *gorm.DB) error { return fn(tx, nil) })
	}
	return t.db.WithContext(ctx).Connection(func(db *gorm.DB) error {
		conn, ok := db.Statement.ConnPool.(*sql.Conn)
		if !ok {
			return errors.New("bundle: no dedicated connection")
		}
		bulk := func(query string, args ...any) error {
			return conn.Raw(func(driverConn any) error {
				c, ok := driverConn.(*stdlib.Conn)
				if !ok {
					return errors.New("bundle: the PostgreSQL driver is not pgx")
				}
				if w := pipelineWatcher.Load(); w != nil {
					(*w)(ctx, query)
				}
				_, err := c.Conn().Exec(ctx, query, args...)
				return err
			})
		}
		return db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec(strings.Replace(enterTenantSQL, "$1", "?", 1), t.projectID).Error; err != nil {
				return err
			}
			return fn(tx, bulk)
		})
	})
}

// insertCreated stores the new resources of a transaction (their ids
// chosen, their references resolved, validated) as version 1, all stamped
// at, with their history and search index rows: on PostgreSQL in one
// statement whatever their number, elsewhere in multi-row INSERTs.
func (t Store) insertCreated(tx *gorm.DB, bulk bulkInserter, created []*entry, at time.Time) error {
	if len(created) == 0 {
		return nil
	}
	stored := make(map[*entry]Resource, len(created))
	index := make(map[*entry]map[string][][]any, len(created))
	var mu sync.Mutex
	err := eachEntry(created, func(e *entry) error {
		content, err := t.stamp(e.res, e.target, 1, at)
		if err != nil {
			return err
		}
		rows := indexRows(e.res)
		if err := checkIndexSize(rows); err != nil {
			return err
		}
		r := Resource{Type: e.typ, ID: e.target, VersionID: "1", LastUpdated: at, JSON: content}
		shown, err := t.redact(r)
		if err != nil {
			return err
		}
		e.done = &EntryResult{Status: http.StatusCreated, Resource: shown}
		mu.Lock()
		stored[e], index[e] = r, rows
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	var rows createdRows
	for _, e := range created {
		rows.add(stored[e], index[e])
	}
	if bulk != nil {
		sql, args := rows.statement(t.projectID, at)
		err := bulk(sql, args...)
		if err != nil && kit.IsUniqueViolation(err) {
			return idTaken
		}
		return err
	}
	return rows.insert(tx, t.projectID, at)
}

// idTaken is a new resource whose id another request took at the same time.
var idTaken = fmt.Errorf("%w: a resource this transaction creates was created by another request at the same time; send it again", kit.ErrConflict)

// eachEntry runs fn for every entry, spread over the processors: the work
// between the database's statements (validation, encoding, index values)
// is most of a large transaction's. The error of the first entry that
// fails, in the Bundle's order, is returned as an *EntryError.
func eachEntry(entries []*entry, fn func(*entry) error) error {
	errs := make([]error, len(entries))
	workers := min(runtime.GOMAXPROCS(0), (len(entries)+31)/32)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(entries); i += workers {
				errs[i] = fn(entries[i])
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return &EntryError{Index: entries[i].index, Err: err}
		}
	}
	return nil
}

// createdRows are the rows of new resources, column by column.
type createdRows struct {
	types, ids, contents []string
	// index rows by table: the owner's type and id, then the table's own
	// columns after param (see indexRows).
	index map[string][][]any
}

func (c *createdRows) add(r Resource, index map[string][][]any) {
	c.types = append(c.types, r.Type)
	c.ids = append(c.ids, r.ID)
	c.contents = append(c.contents, string(r.JSON))
	if c.index == nil {
		c.index = map[string][][]any{}
	}
	for table, rows := range index {
		for _, row := range rows {
			c.index[table] = append(c.index[table], append([]any{r.Type, r.ID}, row...))
		}
	}
}

// insertCreatedSQL stores many new resources in one PostgreSQL statement:
// current rows, first history rows and index rows, each table's values
// passed as one array per column (as createSQL does for one resource).
const insertCreatedSQL = `WITH cur AS (
	INSERT INTO resources (project_id, resource_type, id, version_id, last_updated, deleted, content)
	SELECT $1, u.t, u.i, 1, $2, FALSE, u.c FROM unnest($4::text[], $5::text[], $6::text[]) AS u (t, i, c)
), hist AS (
	INSERT INTO resource_history (project_id, resource_type, id, version_id, last_updated, deleted, content)
	SELECT $1, u.t, u.i, 1, $2, FALSE, u.c FROM unnest($4::text[], $5::text[], $6::text[]) AS u (t, i, c)
), strs AS (
	INSERT INTO resource_strings (project_id, resource_type, resource_id, updated_us, param, value, raw)
	SELECT $1, u.t, u.i, $3, u.p, u.v, u.w FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) AS u (t, i, p, v, w)
), toks AS (
	INSERT INTO resource_tokens (project_id, resource_type, resource_id, updated_us, param, system, code, text)
	SELECT $1, u.t, u.i, $3, u.p, u.s, u.c, u.x FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[]) AS u (t, i, p, s, c, x)
), dates AS (
	INSERT INTO resource_dates (project_id, resource_type, resource_id, updated_us, param, start_us, end_us)
	SELECT $1, u.t, u.i, $3, u.p, u.a, u.b FROM unnest($18::text[], $19::text[], $20::text[], $21::bigint[], $22::bigint[]) AS u (t, i, p, a, b)
), refs AS (
	INSERT INTO resource_references (project_id, resource_type, resource_id, updated_us, param, ref_type, ref_id, ref)
	SELECT $1, u.t, u.i, $3, u.p, u.y, u.d, u.r FROM unnest($23::text[], $24::text[], $25::text[], $26::text[], $27::text[], $28::text[]) AS u (t, i, p, y, d, r)
)
INSERT INTO resource_quantities (project_id, resource_type, resource_id, updated_us, param, value, low, high, system, code, unit)
SELECT $1, u.t, u.i, $3, u.p, u.v, u.l, u.h, u.s, u.c, u.u
FROM unnest($29::text[], $30::text[], $31::text[], $32::float8[], $33::float8[], $34::float8[], $35::text[], $36::text[], $37::text[])
	AS u (t, i, p, v, l, h, s, c, u)`

// statement is insertCreatedSQL and its arguments, with the composite
// rows' insertion when there are any.
func (c *createdRows) statement(projectID string, at time.Time) (string, []any) {
	args := c.args(projectID, at)
	if len(c.index["resource_composites"]) == 0 {
		return insertCreatedSQL, args
	}
	return withComposites(insertCreatedSQL, "u.t, u.i, $3", true, len(args)+1), append(args, compositeJSON(c.index["resource_composites"], 2))
}

// args are insertCreatedSQL's arguments.
func (c *createdRows) args(projectID string, at time.Time) []any {
	args := []any{projectID, at, at.UnixMicro(), c.types, c.ids, c.contents}
	// columns adds one array per column of a table: text, or bigint for
	// the date table's last two.
	columns := func(table string, width int) {
		for col := range width {
			if table == "resource_dates" && col >= 3 {
				vals := make([]int64, 0, len(c.index[table]))
				for _, row := range c.index[table] {
					vals = append(vals, row[col].(int64))
				}
				args = append(args, vals)
				continue
			}
			vals := make([]string, 0, len(c.index[table]))
			for _, row := range c.index[table] {
				vals = append(vals, row[col].(string))
			}
			args = append(args, vals)
		}
	}
	columns("resource_strings", 5)
	columns("resource_tokens", 6)
	columns("resource_dates", 5)
	columns("resource_references", 6)
	return append(args, quantityColumns(c.index["resource_quantities"], 2)...)
}

// insert stores the rows with multi-row INSERTs of at most indexBatch rows.
func (c *createdRows) insert(tx *gorm.DB, projectID string, at time.Time) error {
	const resourceColumns = "project_id, resource_type, id, version_id, last_updated, deleted, content"
	current := make([][]any, len(c.ids))
	for i := range c.ids {
		current[i] = []any{projectID, c.types[i], c.ids[i], 1, at, false, c.contents[i]}
	}
	for _, table := range []string{"resources", "resource_history"} {
		if err := insertBatches(tx, table, resourceColumns, current); err != nil {
			return err
		}
	}
	us := at.UnixMicro()
	for _, table := range indexTables {
		rows := make([][]any, len(c.index[table]))
		for i, r := range c.index[table] {
			rows[i] = append([]any{projectID, r[0], r[1], us}, r[2:]...)
		}
		if err := insertBatches(tx, table, "project_id, resource_type, resource_id, updated_us, param, "+indexColumns[table], rows); err != nil {
			return err
		}
	}
	return nil
}

// insertBatches inserts rows indexBatch at a time.
func insertBatches(tx *gorm.DB, table, columns string, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), indexBatch)
		if err := insertRows(tx, table, columns, rows[:n]); err != nil {
			if kit.IsUniqueViolation(err) {
				return idTaken
			}
			return err
		}
		rows = rows[n:]
	}
	return nil
}
