// Package testdb gives tests fresh, migrated databases: SQLite always, and
// PostgreSQL when ENCLAVE_TEST_DATABASE_URL is set. Each call makes a new
// SQLite file or a new PostgreSQL schema, so tests never see each other's rows.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"enclave/models"
	"enclave/models/accounts"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// DB is one migrated test database.
type DB struct {
	Name string // "sqlite" or "postgres": use it as the subtest name
	DB   *gorm.DB
	// DSN opens the same database again (PostgreSQL only: the URL with its
	// own search_path).
	DSN string
}

// EnvURL names the PostgreSQL DSN variable; EnvRequireAll makes a missing
// database (or browser) a failure instead of a skip.
const (
	EnvURL        = "ENCLAVE_TEST_DATABASE_URL"
	EnvRequireAll = "ENCLAVE_TEST_REQUIRE_ALL"
)

func init() { accounts.SetFastPasswordHashingForTests() }

// RequireAll reports whether skips for missing services must fail instead.
func RequireAll() bool { return os.Getenv(EnvRequireAll) == "1" }

// All returns a fresh SQLite database and, when configured, a fresh
// PostgreSQL schema.
func All(t testing.TB) []DB {
	t.Helper()
	out := []DB{SQLite(t)}
	if pg, ok := Postgres(t); ok {
		out = append(out, pg)
	}
	return out
}

// AllEmpty is All without migrations: empty databases, for tests of the
// migrations themselves.
func AllEmpty(t testing.TB) []DB {
	t.Helper()
	out := []DB{sqliteDB(t, false)}
	if pg, ok := postgresDB(t, false); ok {
		out = append(out, pg)
	}
	return out
}

// SQLite returns a fresh migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) DB {
	t.Helper()
	return sqliteDB(t, true)
}

func sqliteDB(t testing.TB, migrated bool) DB {
	t.Helper()
	db, err := models.OpenSQLite(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	})
	if migrated {
		migrate(t, db)
	}
	return DB{Name: "sqlite", DB: db}
}

// Postgres returns a fresh migrated schema on the configured server. It skips
// the test loudly when no server is configured, or fails it under
// ENCLAVE_TEST_REQUIRE_ALL=1.
func Postgres(t testing.TB) (DB, bool) {
	t.Helper()
	return postgresDB(t, true)
}

func postgresDB(t testing.TB, migrated bool) (DB, bool) {
	t.Helper()
	dsn := os.Getenv(EnvURL)
	if dsn == "" {
		if RequireAll() {
			t.Fatalf("%s is not set and %s=1: PostgreSQL tests must run", EnvURL, EnvRequireAll)
		}
		t.Logf("SKIPPING PostgreSQL: set %s to run this test on PostgreSQL too", EnvURL)
		return DB{}, false
	}
	admin, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("connect to PostgreSQL (%s): %v", EnvURL, err)
	}
	schema := "t_" + randomHex(8)
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := models.Open(context.Background(), u.String(), "")
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	})
	if migrated {
		migrate(t, db)
	}
	return DB{Name: "postgres", DB: db, DSN: u.String()}, true
}

func migrate(t testing.TB, db *gorm.DB) {
	t.Helper()
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
