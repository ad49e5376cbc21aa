package models

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// InTenantTx exposes the tenant transaction to the row-level security test,
// which runs deliberately unfiltered SQL inside it.
func (t Tenant) InTenantTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return t.tenantTx(ctx, true, fn)
}

// PipelinedStrings runs a deliberately unfiltered SELECT of string index
// values through the pipelined tenant wall, as the hot paths send theirs.
func (t Tenant) PipelinedStrings(ctx context.Context, query string) ([]string, error) {
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

// ExplainSearch returns PostgreSQL's plan of q's page and count statements,
// made as the store makes them (same settings, same role), as plain text.
func (t Tenant) ExplainSearch(ctx context.Context, q SearchQuery) (string, error) {
	if DialectOf(t.db) != Postgres {
		return t.explainSQLite(q)
	}
	page, count := t.searchSQL(q, true)
	stmts := []sqlText{}
	for _, s := range []*sqlText{page, count} {
		if s != nil {
			stmts = append(stmts, sqlText{sql: "EXPLAIN " + s.sql, args: s.args})
		}
	}
	var plan strings.Builder
	err := t.tenantPipeline(ctx, enterRangeSearchSQL, stmts, func(br pgx.BatchResults) error {
		for range stmts {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			plan.WriteString(strings.Join(lines, "\n") + "\n")
		}
		return nil
	})
	return plan.String(), err
}

// explainSQLite returns SQLite's query plans of q's statements, one step a
// line.
func (t Tenant) explainSQLite(q SearchQuery) (string, error) {
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
