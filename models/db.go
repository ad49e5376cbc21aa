// Package models is the door to Enclave's data: it opens the database, runs
// the migrations, and composes the domain packages beneath it (accounts,
// projects, members, secrets, audit, resources, mail, on the shared kit)
// into two stores, and holds the use-cases that span domains.
//
// System reaches server-wide data (accounts, a user's projects, invitations
// to an address, the operator's flags) and is the only place allowed to cross
// a project boundary. Tenant is bound to one project id at construction and
// every store it is made of carries that id; web handlers reach it only
// through a Scope, which a checked membership makes.
package models

import (
	"context"
	"database/sql"
	"enclave/models/kit"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Open connects to PostgreSQL when databaseURL is a postgres:// URL, and to an
// embedded SQLite file in dataDir otherwise. It checks that the database
// answers before returning, so a bad setting fails at start-up.
func Open(ctx context.Context, databaseURL, dataDir string) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:  logger.Discard,
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var db *gorm.DB
	var err error
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		db, err = gorm.Open(postgres.Open(databaseURL), cfg)
		if err != nil {
			return nil, fmt.Errorf("database unreachable: %s", firstLine(err.Error()))
		}
	case databaseURL == "":
		if err := MakePrivateDir(dataDir); err != nil {
			return nil, fmt.Errorf("data directory %s: %w", dataDir, err)
		}
		path := filepath.Join(dataDir, "enclave.db")
		db, err = OpenSQLite(path)
		if err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("DATABASE_URL must start with postgres:// (or be unset for the embedded SQLite database)")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if kit.DialectOf(db) == kit.Postgres {
		setPool(sqlDB, DefaultPoolSize)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("database unreachable: %s", firstLine(err.Error()))
	}
	return db, nil
}

// DefaultPoolSize is how many PostgreSQL connections a server keeps.
const DefaultPoolSize = 20

// ParsePoolSize reads a pool size setting; empty means DefaultPoolSize.
func ParsePoolSize(s string) (int, error) {
	if strings.TrimSpace(s) == "" {
		return DefaultPoolSize, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 2 || n > 1000 {
		return 0, fmt.Errorf("ENCLAVE_DB_MAX_CONNS must be a whole number from 2 to 1000, not %q", s)
	}
	return n, nil
}

// SetPoolSize sizes the PostgreSQL connection pool: at most n connections,
// and every one kept open once made, so that steady load never opens new
// database sessions (database/sql keeps only 2 idle connections unless told
// otherwise, and each surplus request would connect anew). SQLite keeps its
// own small pool.
func SetPoolSize(db *gorm.DB, n int) error {
	if kit.DialectOf(db) != kit.Postgres {
		return nil
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	setPool(sqlDB, n)
	return nil
}

func setPool(sqlDB *sql.DB, n int) {
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(0)
	// Renewing connections now and then returns the memory a long-lived
	// backend accumulates (cached plans, catalog caches).
	sqlDB.SetConnMaxLifetime(time.Hour)
}

// OpenSQLite opens (creating if needed) the SQLite database file at path, with
// foreign keys on, WAL journaling and a busy timeout so that concurrent
// requests wait for the writer instead of failing. The file, its -wal and its
// -shm are readable and writable by the owner only (0600), whatever the
// umask: SQLite would create the database 0644, and it gives the -wal and
// -shm files the mode of the database.
func OpenSQLite(path string) (*gorm.DB, error) {
	if err := privateFile(path); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(dsn), &gorm.Config{
		Logger:  logger.Discard,
		NowFunc: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// One writer at a time is SQLite's rule; a small pool keeps readers concurrent.
	sqlDB.SetMaxOpenConns(4)
	if err := sqlDB.Ping(); err != nil {
		return nil, fmt.Errorf("sqlite %s: %s", path, firstLine(err.Error()))
	}
	// Journal files left by an older version may be looser: tighten them.
	for _, journal := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(journal, privateFileMode); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
			sqlDB.Close()
			return nil, fmt.Errorf("sqlite %s: %w", journal, err)
		}
	}
	return db, nil
}

// privateFileMode and privateDirMode are the modes of the data directory and
// the files Enclave keeps in it.
const (
	privateFileMode os.FileMode = 0o600
	privateDirMode  os.FileMode = 0o700
)

// privateFile creates the file at path with mode 0600 when it does not exist,
// and tightens an existing one to 0600. The mode is set explicitly, so the
// umask cannot widen it; an existing file that belongs to someone else is
// left as it is.
func privateFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, privateFileMode)
	if err != nil {
		return err
	}
	if err := f.Chmod(privateFileMode); err != nil && !errors.Is(err, os.ErrPermission) {
		f.Close()
		return err
	}
	return f.Close()
}

// MakePrivateDir creates dir, and any missing parent, with mode 0700 set
// explicitly (whatever the umask). A directory that already exists is left
// as it is: it may be one the operator chose and shares, like ".".
func MakePrivateDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		return err
	}
	return os.Chmod(dir, privateDirMode)
}

// Ping reports whether the database answers.
func Ping(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// gormExpr is a raw SQL expression for an update.
func gormExpr(sql string) clause.Expr { return gorm.Expr(sql) }
