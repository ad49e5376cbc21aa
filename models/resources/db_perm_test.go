package resources_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"enclave/models"
)

// withUmask runs the test under umask, the most permissive being 0, and
// restores the previous one afterwards. (No test of this package runs in
// parallel, so nothing else creates files meanwhile.)
func withUmask(t *testing.T, umask int) {
	t.Helper()
	old := syscall.Umask(umask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// checkMode fails unless path exists with exactly the permission bits want.
func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
		return
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %04o, want %04o", filepath.Base(path), got, want)
	}
}

// TestSQLiteFilesAreOwnerOnly: the data directory Open creates is 0700 and
// the database with its -wal and -shm files 0600, even under umask 0 (SQLite
// on its own makes the database 0644, readable by every local user).
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	for _, umask := range []int{0, 0o022} {
		withUmask(t, umask)
		dir := filepath.Join(t.TempDir(), "deep", "data")
		db, err := models.Open(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := models.Migrate(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		checkMode(t, dir, 0o700)
		for _, f := range []string{"enclave.db", "enclave.db-wal", "enclave.db-shm"} {
			checkMode(t, filepath.Join(dir, f), 0o600)
		}
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlDB.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSQLiteFilesAreTightenedOnOpen: files an older version left readable by
// others are 0600 once the database is opened again; the data directory
// someone chose is left as it is.
func TestSQLiteFilesAreTightenedOnOpen(t *testing.T) {
	withUmask(t, 0)
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "enclave.db")
	first, err := models.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	firstDB, err := first.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer firstDB.Close()
	if _, err := models.Migrate(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	// The first handle keeps the -wal and -shm files alive while they are
	// loosened, as an older version would have left them.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := models.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	secondDB, err := second.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer secondDB.Close()
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		checkMode(t, f, 0o600)
	}
	checkMode(t, dir, 0o755)
}
