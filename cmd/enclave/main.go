// Command enclave runs the Enclave server.
//
//	enclave            start the server (same as "enclave serve")
//	enclave migrate    apply database migrations and exit
//	enclave super-admin grant|revoke ID   make a project's admins server operators
//	enclave users set-password EMAIL      give an account a new password, read from stdin
//	enclave secrets rotate-key [--new-key KEY]
//	                   re-encrypt every project secret under a new key
//	enclave oauth rotate-key
//	                   sign access tokens with a new key, keeping the old one for verification
//	enclave -h         list the commands and flags
//
// Configuration comes from environment variables (see README.md); flags
// mirror the most common ones.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"enclave/models"
	"enclave/web"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "enclave: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "secrets" {
		return runSecrets(args[1:], os.Stdout)
	}
	if len(args) > 0 && args[0] == "oauth" {
		return runOAuth(args[1:], os.Stdout)
	}
	if len(args) > 0 && args[0] == "super-admin" {
		return runSuperAdmin(args[1:], os.Stdout)
	}
	if len(args) > 0 && args[0] == "users" {
		return runUsers(args[1:], os.Stdin, os.Stdout)
	}
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate") {
		cmd, args = args[0], args[1:]
	}
	cfg := web.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("enclave "+cmd, flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (ENCLAVE_ADDR)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (ENCLAVE_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty for embedded SQLite (DATABASE_URL)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", cfg.MetricsAddr, "listen address of a second listener that serves only /metrics, e.g. 127.0.0.1:9090; empty for none (ENCLAVE_METRICS_ADDR)")
	poolText := os.Getenv("ENCLAVE_DB_MAX_CONNS")
	fs.StringVar(&poolText, "db-max-conns", poolText, fmt.Sprintf("PostgreSQL connections in the pool, all kept open once made (ENCLAVE_DB_MAX_CONNS; default %d)", models.DefaultPoolSize))
	timeoutText := os.Getenv("ENCLAVE_REQUEST_TIMEOUT")
	fs.StringVar(&timeoutText, "request-timeout", timeoutText, fmt.Sprintf("how long a request may run, its database work included, e.g. 30s or 2m (ENCLAVE_REQUEST_TIMEOUT; default %s)", web.DefaultRequestTimeout))
	retentionText := os.Getenv("ENCLAVE_DELETED_RETENTION")
	fs.StringVar(&retentionText, "deleted-retention", retentionText, fmt.Sprintf("how long a deleted project waits before it is expunged for good, a super admin able to restore it until then, e.g. 168h or 720h (ENCLAVE_DELETED_RETENTION; default %s)", models.DefaultDeletedRetention))
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: enclave [command] [flags]

Commands:
  serve                       start the server (the default)
  migrate                     apply the database migrations and exit
  secrets rotate-key          re-encrypt every project secret under a new key (-h for its flags)
  oauth rotate-key            sign access tokens with a new key; the old one verifies for 24 h more
  super-admin grant|revoke ID make or unmake a project's admins server operators
  users set-password EMAIL    give an account a new password, read from standard input (-h explains)

Flags of serve and migrate:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	poolSize, err := models.ParsePoolSize(poolText)
	if err != nil {
		return err
	}
	if cfg.RequestTimeout, err = web.ParseRequestTimeout(timeoutText); err != nil {
		return err
	}
	if cfg.DeletedRetention, err = web.ParseDeletedRetention(retentionText); err != nil {
		return err
	}
	if cfg.TrustedProxies, err = web.ParseTrustedProxies(os.Getenv("ENCLAVE_TRUSTED_PROXIES")); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q (want serve, migrate, secrets, super-admin or users)", fs.Arg(0))
	}

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := cfg.PrepareDataDir(); err != nil {
		return err
	}
	if err := cfg.CheckMail(); err != nil {
		return err
	}
	if err := cfg.CheckMetrics(); err != nil {
		return err
	}
	db, err := models.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	if err := models.SetPoolSize(db, poolSize); err != nil {
		return err
	}
	n, err := models.Migrate(ctx, db)
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("migrations applied", "count", n)
	}
	if cmd == "migrate" {
		fmt.Printf("database is up to date (%d migrations applied now)\n", n)
		return nil
	}
	warnForeignSecrets(ctx, db, cfg, log)

	abs, _ := filepath.Abs(cfg.DataDir)
	where := "SQLite in " + filepath.Join(abs, "enclave.db")
	if cfg.DatabaseURL != "" {
		where = "PostgreSQL"
	}
	fmt.Printf("Enclave listening on http://%s\nData: %s (data directory %s)\n", cfg.Addr, where, abs)
	log.Info("starting", "addr", cfg.Addr, "data_dir", abs, "database", where)
	if cfg.MetricsAddr != "" {
		fmt.Printf("Metrics on http://%s/metrics\n", cfg.MetricsAddr)
	}
	return web.New(cfg, db, log).Run(ctx)
}
