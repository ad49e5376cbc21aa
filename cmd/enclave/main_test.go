package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"enclave/models/testdb"
)

func TestStartupErrorsAreOneClearLine(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(file, nil, 0o600)
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unreachable database", map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, "database unreachable"},
		{"not a postgres URL", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL must start with postgres://"},
		{"unusable data directory", map[string]string{"ENCLAVE_DATA_DIR": filepath.Join(file, "data")}, "data directory"},
		{"short session key", map[string]string{"ENCLAVE_SESSION_KEY": "short"}, "at least 32 characters"},
		{"mail without a base URL", map[string]string{"ENCLAVE_SMTP_HOST": "mail.example.org", "ENCLAVE_SMTP_FROM": "e@example.org"}, "ENCLAVE_BASE_URL is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("ENCLAVE_DATA_DIR", t.TempDir())
			t.Setenv("DATABASE_URL", "")
			t.Setenv("ENCLAVE_SESSION_KEY", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := run([]string{"migrate"})
			if err == nil {
				t.Fatal("start-up succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
		})
	}
}

func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	if err := run([]string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"enclave.db", "session.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created in the data directory: %v", f, err)
		}
	}
	key1, err := os.ReadFile(filepath.Join(dir, "session.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"migrate"}); err != nil {
		t.Fatal("second migrate:", err)
	}
	key2, err := os.ReadFile(filepath.Join(dir, "session.key"))
	if err != nil {
		t.Fatal(err)
	}
	if string(key1) != string(key2) {
		t.Error("the session key changed between starts; every session would end on restart")
	}
	if err := run([]string{"frobnicate"}); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown sub-command: %v", err)
	}
}

func TestMigrateOnPostgres(t *testing.T) {
	pg, ok := testdb.Postgres(t)
	if !ok {
		return
	}
	// The schema is already migrated, so the command must find nothing to do.
	t.Setenv("ENCLAVE_DATA_DIR", t.TempDir())
	t.Setenv("DATABASE_URL", pg.DSN)
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	if err := run([]string{"migrate"}); err != nil {
		t.Fatal(err)
	}
}
