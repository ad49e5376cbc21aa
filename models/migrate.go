package models

import (
	"context"
	"embed"
	"enclave/models/kit"
	"enclave/models/members"
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

// Lines between a dialect's two markers run only on that dialect: they are
// dropped from the migration before it runs on the other. PostgreSQL-only
// blocks hold row-level security, roles and grants; SQLite-only blocks hold
// what SQLite must say in its own words:
//
//	-- +enclave postgres-only begin
//	ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
//	-- +enclave postgres-only end
//
// The markers sit on lines of their own and do not nest.
var onlyMarkers = map[kit.Dialect][2]string{
	kit.Postgres: {"-- +enclave postgres-only begin", "-- +enclave postgres-only end"},
	kit.SQLite:   {"-- +enclave sqlite-only begin", "-- +enclave sqlite-only end"},
}

// forSQLite translates one PostgreSQL migration for SQLite: type names are
// renamed and postgres-only blocks removed.
func forSQLite(src string) (string, error) {
	out, err := forDialect(src, kit.SQLite)
	if err != nil {
		return "", err
	}
	return sqliteWords.Replace(out), nil
}

// forDialect keeps the blocks marked for d (without their markers) and drops
// those marked for the other dialect. Unbalanced markers are an error, so a
// typo cannot leak one dialect's statements into the other.
func forDialect(src string, d kit.Dialect) (string, error) {
	var out strings.Builder
	inside := "" // the dialect of the block we are in
	for i, line := range strings.SplitAfter(src, "\n") {
		marker := false
		for dialect, m := range onlyMarkers {
			switch strings.TrimSpace(line) {
			case m[0]:
				if inside != "" {
					return "", fmt.Errorf("line %d: %q inside another dialect block", i+1, m[0])
				}
				inside, marker = string(dialect), true
			case m[1]:
				if inside != string(dialect) {
					return "", fmt.Errorf("line %d: %q without a matching begin", i+1, m[1])
				}
				inside, marker = "", true
			}
		}
		if !marker && (inside == "" || inside == string(d)) {
			out.WriteString(line)
		}
	}
	if inside != "" {
		return "", fmt.Errorf("a %s-only block is never closed", inside)
	}
	return out.String(), nil
}

// migrationFS returns the numbered migrations, translated for the dialect.
func migrationFS(d kit.Dialect) (fs.FS, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
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
		translate := forSQLite
		if d == kit.Postgres {
			translate = func(src string) (string, error) { return forDialect(src, kit.Postgres) }
		}
		translated, err := translate(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		out[path] = &fstest.MapFile{Data: []byte(translated)}
		return nil
	})
	return out, err
}

// Migrate brings the schema up to the newest migration, gives memberships
// that lack one their profile resource, and returns how many SQL migrations
// it applied.
func Migrate(ctx context.Context, db *gorm.DB) (int, error) {
	d := kit.DialectOf(db)
	fsys, err := migrationFS(d)
	if err != nil {
		return 0, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return 0, err
	}
	gd := goose.DialectSQLite3
	if d == kit.Postgres {
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
	if _, err := members.BackfillProfiles(ctx, db); err != nil {
		return len(results), fmt.Errorf("migrations: %s", firstLine(err.Error()))
	}
	return len(results), nil
}
