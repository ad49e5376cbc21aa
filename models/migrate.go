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
		out[path] = &fstest.MapFile{Data: []byte(sqliteWords.Replace(string(b)))}
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
