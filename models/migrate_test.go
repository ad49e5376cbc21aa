package models

import (
	"enclave/models/kit"
	"io/fs"
	"strings"
	"testing"
)

func TestForSQLiteDropsPostgresOnlyBlocks(t *testing.T) {
	src := "CREATE TABLE a (t TIMESTAMPTZ, b BYTEA);\n" +
		"-- +enclave postgres-only begin\n" +
		"ALTER TABLE a ENABLE ROW LEVEL SECURITY;\n" +
		"  -- +enclave postgres-only end  \n" +
		"CREATE INDEX a_t ON a (t);\n"
	got, err := forSQLite(src)
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE TABLE a (t DATETIME, b BLOB);\nCREATE INDEX a_t ON a (t);\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestForSQLiteRejectsUnbalancedMarkers(t *testing.T) {
	cases := map[string]string{
		"never closed": "-- +enclave postgres-only begin\nSELECT 1;\n",
		"end alone":    "SELECT 1;\n-- +enclave postgres-only end\n",
		"nested":       "-- +enclave postgres-only begin\n-- +enclave postgres-only begin\n-- +enclave postgres-only end\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := forSQLite(src); err == nil {
				t.Fatal("unbalanced markers accepted")
			}
		})
	}
}

func TestShippedMigrationsTranslateForSQLite(t *testing.T) {
	fsys, err := migrationFS(kit.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fsReadFile(fsys, "00010_resources.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, pgOnly := range []string{"ROW LEVEL SECURITY", "CREATE POLICY", "enclave_tenant", "TIMESTAMPTZ"} {
		if strings.Contains(b, pgOnly) {
			t.Errorf("SQLite migration still contains %q", pgOnly)
		}
	}
	if !strings.Contains(b, "CREATE TABLE resources") {
		t.Error("SQLite migration lost the resources table")
	}
}

func fsReadFile(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	return string(b), err
}

func TestDialectBlocksGoToTheirDialectOnly(t *testing.T) {
	src := "A;\n-- +enclave postgres-only begin\nP;\n-- +enclave postgres-only end\n" +
		"-- +enclave sqlite-only begin\nS;\n-- +enclave sqlite-only end\nB;\n"
	for d, want := range map[kit.Dialect]string{kit.Postgres: "A;\nP;\nB;\n", kit.SQLite: "A;\nS;\nB;\n"} {
		got, err := forDialect(src, d)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", d, got, want)
		}
	}
	if _, err := forDialect("-- +enclave sqlite-only begin\n-- +enclave postgres-only end\n", kit.SQLite); err == nil {
		t.Error("a block closed by the other dialect's marker was accepted")
	}
}
