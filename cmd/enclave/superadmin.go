package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"enclave/models"
	"enclave/models/kit"
	"enclave/web"
)

// runSuperAdmin marks or unmarks a project as a super-admin project:
//
//	enclave super-admin grant PROJECT_ID
//	enclave super-admin revoke PROJECT_ID
//
// Its admins (under no access policy) become (or stop being) server operators. This is how the first
// super admin is made, from the server's shell, never from the web.
func runSuperAdmin(args []string, out io.Writer) error {
	if len(args) == 0 || (args[0] != "grant" && args[0] != "revoke") {
		return errors.New(`unknown super-admin command (want "enclave super-admin grant PROJECT_ID" or "revoke PROJECT_ID")`)
	}
	on := args[0] == "grant"
	cfg := web.ConfigFromEnv(os.Getenv)
	fs := flag.NewFlagSet("enclave super-admin "+args[0], flag.ContinueOnError)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (ENCLAVE_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "postgres:// URL; empty for embedded SQLite (DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("give exactly one project id")
	}
	projectID := fs.Arg(0)
	ctx := context.Background()
	db, err := openMigrated(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeDB(db)
	sys := models.NewSystem(db)
	p, err := sys.Tenant(projectID).Project(ctx)
	if errors.Is(err, kit.ErrNotFound) {
		return fmt.Errorf("no project with id %s", projectID)
	}
	if err != nil {
		return err
	}
	if err := sys.SetSuperAdmin(ctx, projectID, on); err != nil {
		return err
	}
	if on {
		fmt.Fprintf(out, "project %q (%s) is now a super-admin project: its admins are super admins\n", p.Name, p.ID)
	} else {
		fmt.Fprintf(out, "project %q (%s) is no longer a super-admin project\n", p.Name, p.ID)
	}
	return nil
}
