package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"enclave/models"
	"enclave/models/secrets"
	"enclave/web"

	"gorm.io/gorm"
)

// runSecrets is "enclave secrets rotate-key": re-encrypt every project
// secret under a new key in one transaction, then install the key.
func runSecrets(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rotate-key" {
		return errors.New(`unknown secrets command (want "enclave secrets rotate-key")`)
	}
	cfg := web.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("enclave secrets rotate-key", flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (ENCLAVE_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty for embedded SQLite (DATABASE_URL)")
	newKeyText := fs.String("new-key", os.Getenv("ENCLAVE_SECRETS_NEW_KEY"), "the new key, base64 of 32 bytes (ENCLAVE_SECRETS_NEW_KEY); generated when empty")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	if err := cfg.PrepareDataDir(); err != nil {
		return err
	}
	oldBox, err := secrets.NewBox(cfg.SecretsKey)
	if err != nil {
		return err
	}
	generated := *newKeyText == ""
	var newKey []byte
	if generated {
		newKey, err = secrets.GenerateKey()
	} else {
		newKey, err = secrets.ParseKey(*newKeyText)
	}
	if err != nil {
		return fmt.Errorf("new key: %w", err)
	}
	if bytes.Equal(newKey, cfg.SecretsKey) {
		return errors.New("the new key is the key already in use")
	}
	newBox, err := secrets.NewBox(newKey)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)

	if !cfg.SecretsKeyFromEnv {
		if err := cfg.StageSecretsKey(newKey); err != nil {
			return err
		}
	}
	n, err := models.NewSystem(db).RotateSecretsKey(ctx, oldBox, newBox)
	if err != nil {
		if !cfg.SecretsKeyFromEnv {
			cfg.DiscardStagedSecretsKey()
		}
		return fmt.Errorf("rotation failed and nothing changed: every secret is still encrypted with key %s: %w", oldBox.KeyID(), err)
	}
	fmt.Fprintf(out, "Re-encrypted %d secrets with the new key %s (was %s).\n", n, newBox.KeyID(), oldBox.KeyID())
	if cfg.SecretsKeyFromEnv {
		if generated {
			fmt.Fprintf(out, "\nThe new key, shown only this once:\n\n    %s\n\n", secrets.EncodeKey(newKey))
		}
		fmt.Fprintln(out, "Set ENCLAVE_SECRETS_KEY to the new key and restart the server: until then it cannot read the secrets.")
		return nil
	}
	if err := cfg.CommitSecretsKey(); err != nil {
		return err
	}
	fmt.Fprintf(out, "The new key is in %s; the previous one is kept in %s.old until the next rotation.\n"+
		"Restart the server so that it uses the new key.\n", cfg.SecretsKeyPath(), cfg.SecretsKeyPath())
	return nil
}

// warnForeignSecrets logs, at start-up, secrets that the configured key
// cannot open: a sign of a wrong ENCLAVE_SECRETS_KEY or a lost key file.
func warnForeignSecrets(ctx context.Context, db *gorm.DB, cfg web.Config, log *slog.Logger) {
	box, err := secrets.NewBox(cfg.SecretsKey)
	if err != nil {
		return
	}
	n, err := models.NewSystem(db).SecretsUnderOtherKeys(ctx, box)
	if err == nil && n > 0 {
		log.Warn("some project secrets were encrypted with another key and cannot be read; configure the key that wrote them",
			"count", n, "key_id", box.KeyID())
	}
}

// openMigrated opens the configured database for a sub-command and brings
// its schema up to date.
func openMigrated(ctx context.Context, cfg web.Config) (*gorm.DB, error) {
	db, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if _, err := models.Migrate(ctx, db); err != nil {
		closeDB(db)
		return nil, err
	}
	return db, nil
}

func closeDB(db *gorm.DB) {
	if s, err := db.DB(); err == nil {
		s.Close()
	}
}
