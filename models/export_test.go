package models

import (
	"context"
	"enclave/models/kit"
	"errors"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"
)

// MigrateTo applies the SQL migrations up to and including version.
func MigrateTo(ctx context.Context, db *gorm.DB, version int64) error {
	fsys, err := migrationFS(kit.DialectOf(db))
	if err != nil {
		return err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if kit.DialectOf(db) == kit.Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// FailJoins makes JoinAsPatient fail once the Patient and membership are
// stored (or, with false, stops it).
func FailJoins(fail bool) {
	joinFault = nil
	if fail {
		joinFault = func() error { return ErrJoinFault }
	}
}

// ErrJoinFault is what FailJoinsAfterThePatient's failure returns.
var ErrJoinFault = errors.New("injected failure")
