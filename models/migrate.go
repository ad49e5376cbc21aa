package models

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// sqliteWords maps PostgreSQL type names used in the migrations to SQLite's.
// SQLite needs DATETIME for the driver to hand back time.Time values.
var sqliteWords = strings.NewReplacer("TIMESTAMPTZ", "DATETIME", "BYTEA", "BLOB")

// Lines between these two markers are PostgreSQL-only (row-level security,
// roles, grants) and are dropped from the migration before it runs on SQLite:
//
//	-- +enclave postgres-only begin
//	ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
//	-- +enclave postgres-only end
//
// The markers sit on lines of their own and do not nest.
const (
	postgresOnlyBegin = "-- +enclave postgres-only begin"
	postgresOnlyEnd   = "-- +enclave postgres-only end"
)

// forSQLite translates one PostgreSQL migration for SQLite: type names are
// renamed and postgres-only blocks removed. Unbalanced markers are an error,
// so a typo cannot leak PostgreSQL statements into SQLite or the reverse.
func forSQLite(src string) (string, error) {
	var out strings.Builder
	inside := false
	for i, line := range strings.SplitAfter(src, "\n") {
		switch strings.TrimSpace(line) {
		case postgresOnlyBegin:
			if inside {
				return "", fmt.Errorf("line %d: %q inside a postgres-only block", i+1, postgresOnlyBegin)
			}
			inside = true
			continue
		case postgresOnlyEnd:
			if !inside {
				return "", fmt.Errorf("line %d: %q without a matching begin", i+1, postgresOnlyEnd)
			}
			inside = false
			continue
		}
		if !inside {
			out.WriteString(line)
		}
	}
	if inside {
		return "", fmt.Errorf("%q is never closed", postgresOnlyBegin)
	}
	return sqliteWords.Replace(out.String()), nil
}

// migrationFS returns the numbered migrations, translated for the dialect.
func migrationFS(d Dialect) (fs.FS, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if d == Postgres {
		return sub, nil
	}
	out := fstest.MapFS{}
	err = fs.WalkDir(sub, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		translated, err := forSQLite(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out[path] = &fstest.MapFile{Data: []byte(translated)}
		return nil
	})
	return out, err
}

// Migrate brings the schema up to the newest migration and returns how many
// migrations it applied.
func Migrate(ctx context.Context, db *gorm.DB) (int, error) {
	d := DialectOf(db)
	fsys, err := migrationFS(d)
	if err != nil {
		return 0, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return 0, err
	}
	gd := goose.DialectSQLite3
	if d == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrations: %s", firstLine(err.Error()))
	}
	return len(results), nil
}
