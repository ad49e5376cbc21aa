package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/projects"
)

func TestSuperAdminCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	db, err := models.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	sys := models.NewSystem(db)
	u, err := sys.CreateUser(context.Background(), accounts.NewUser{FirstName: "O", LastName: "P", Email: "op@example.org", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sys.CreateProject(context.Background(), u.ID, projects.NewProject{Name: "Operators"})
	if err != nil {
		t.Fatal(err)
	}
	closeDB(db)

	var out bytes.Buffer
	if err := runSuperAdmin([]string{"grant", p.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Operators"`) {
		t.Errorf("output %q", out.String())
	}
	db, err = models.OpenSQLite(filepath.Join(dir, "enclave.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	if is, err := models.NewSystem(db).IsSuperAdmin(context.Background(), u.ID); err != nil || !is {
		t.Errorf("the member is not a super admin after grant: %v", err)
	}
	if err := runSuperAdmin([]string{"revoke", p.ID}, &out); err != nil {
		t.Fatal(err)
	}
	if is, err := models.NewSystem(db).IsSuperAdmin(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	} else if is {
		t.Error("still a super admin after revoke")
	}
	for _, args := range [][]string{{"grant"}, {"grant", "00000000-0000-4000-8000-000000000000"}, {"promote", p.ID}} {
		if err := runSuperAdmin(args, &out); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
