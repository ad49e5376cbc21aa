package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDataDirectoryIsOwnerOnly: on first start, even under umask 0, the data
// directory is 0700 and the database, its journal files and the generated
// keys are 0600, so no other local user can read them.
func TestDataDirectoryIsOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "fresh", "data")
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	t.Setenv("ENCLAVE_SECRETS_KEY", "")
	if err := run([]string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	mode := func(name string) os.FileMode {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return st.Mode().Perm()
	}
	if m := mode("."); m != 0o700 {
		t.Errorf("data directory: mode %04o, want 0700", m)
	}
	for _, f := range []string{"enclave.db", "session.key", "secrets.key"} {
		if m := mode(f); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", f, m)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if m := mode(e.Name()); m&0o077 != 0 {
			t.Errorf("%s: mode %04o, readable by others", e.Name(), m)
		}
	}
}
