package resources

import (
	"context"
	"enclave/models/kit"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// InTenantTx exposes the tenant transaction to the row-level security test,
// which runs deliberately unfiltered SQL inside it.
func (t Store) InTenantTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return t.tenantTx(ctx, true, fn)
}

// PipelinedStrings runs a deliberately unfiltered SELECT of string index
// values through the pipelined tenant wall, as the hot paths send theirs.
func (t Store) PipelinedStrings(ctx context.Context, query string) ([]string, error) {
	var out []string
	err := t.tenantPipeline(ctx, enterTenantSQL, []sqlText{{sql: query}}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

// ExplainSearch returns the plan of q's page and count statements, made as
// the store makes them (same settings, same role), as plain text. On
// PostgreSQL it is the plan for these values or, with generic, the prepared
// statement's generic plan, which PostgreSQL may settle on after a few
// executions.
func (t Store) ExplainSearch(ctx context.Context, q SearchQuery, generic bool) (string, error) {
	if kit.DialectOf(t.db) != kit.Postgres {
		return t.explainSQLite(q)
	}
	page, count := t.searchSQL(q, true)
	mode := "force_custom_plan"
	if generic {
		mode = "force_generic_plan"
	}
	var plan strings.Builder
	err := withPgx(ctx, t.db, func(c *pgx.Conn) error {
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, enterSearchSQL+`, set_config('plan_cache_mode', $2, true)`, t.projectID, mode); err != nil {
			return err
		}
		for i, s := range []*sqlText{page, count} {
			if s == nil {
				continue
			}
			explained++
			name := fmt.Sprintf("explained_%d_%d", explained, i)
			if _, err := tx.Prepare(ctx, name, s.sql); err != nil {
				return err
			}
			literals := make([]string, len(s.args))
			for j, a := range s.args {
				literals[j] = sqlLiteral(a)
			}
			rows, err := tx.Query(ctx, "EXPLAIN EXECUTE "+name+"("+strings.Join(literals, ", ")+")")
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			plan.WriteString(strings.Join(lines, "\n") + "\n")
			if err := tx.Conn().Deallocate(ctx, name); err != nil {
				return err
			}
		}
		return nil
	})
	return plan.String(), err
}

// explained numbers the statements ExplainSearch prepares.
var explained int

// sqlLiteral writes a statement argument as a PostgreSQL literal.
func sqlLiteral(v any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch x := v.(type) {
	case string:
		return quote(x)
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = quote(e)
		}
		return "ARRAY[" + strings.Join(parts, ", ") + "]::text[]"
	default:
		return fmt.Sprint(x)
	}
}

// explainSQLite returns kit.SQLite's query plans of q's statements, one step a
// line.
func (t Store) explainSQLite(q SearchQuery) (string, error) {
	page, count := t.searchSQL(q, false)
	var plan strings.Builder
	for _, s := range []*sqlText{page, count} {
		if s == nil {
			continue
		}
		rows, err := t.db.Raw("EXPLAIN QUERY PLAN "+s.sql, s.args...).Rows()
		if err != nil {
			return "", err
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				rows.Close()
				return "", err
			}
			plan.WriteString(detail + "\n")
		}
		if err := rows.Close(); err != nil {
			return "", err
		}
	}
	return plan.String(), nil
}

// ChosenDriver returns the code of the filter the GORM path would read q's
// page from, after its sample counts ("" when it makes no choice).
func (t Store) ChosenDriver(ctx context.Context, q SearchQuery) (string, error) {
	var code string
	err := t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		if err := t.chooseDriver(tx, &q); err != nil || !q.chosen {
			return err
		}
		code = q.filters[q.driver].code
		return nil
	})
	return code, err
}
