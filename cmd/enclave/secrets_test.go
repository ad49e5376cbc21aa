package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/projects"
	"enclave/models/secrets"
	"enclave/models/testdb"
	"enclave/web"

	"gorm.io/gorm"
)

// rotationDBs gives the command's environment for each database: SQLite in
// the data directory (where the command looks for it) and, when configured,
// a PostgreSQL schema.
func rotationDBs(t *testing.T) []struct {
	name, url string
	db        *gorm.DB
} {
	type target = struct {
		name, url string
		db        *gorm.DB
	}
	dir := t.TempDir()
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	t.Setenv("ENCLAVE_SECRETS_KEY", "")
	t.Setenv("ENCLAVE_SECRETS_NEW_KEY", "")
	lite, err := models.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(lite) })
	if _, err := models.Migrate(context.Background(), lite); err != nil {
		t.Fatal(err)
	}
	out := []target{{"sqlite", "", lite}}
	if pg, ok := testdb.Postgres(t); ok {
		out = append(out, target{"postgres", pg.DSN, pg.DB})
	}
	return out
}

// seed makes two projects with two secrets each, sealed with key, and
// returns project id -> name -> value.
func seed(t *testing.T, db *gorm.DB, key []byte) map[string]map[string]string {
	t.Helper()
	ctx := context.Background()
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sys := models.NewSystem(db)
	u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "A", LastName: "B", Email: "a" + filepath.Base(t.TempDir()) + "@example.org", Password: "password-123"})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, pn := range []string{"Alpha", "Beta"} {
		p, err := sys.CreateProject(ctx, u.ID, projects.NewProject{Name: pn})
		if err != nil {
			t.Fatal(err)
		}
		out[p.ID] = map[string]string{}
		for _, sn := range []string{"ONE", "TWO"} {
			v := pn + "-" + sn + "-plaintext-value"
			if _, err := sys.Tenant(p.ID).Secrets(box).Create(ctx, audit.Actor{}, sn, v); err != nil {
				t.Fatal(err)
			}
			out[p.ID][sn] = v
		}
	}
	return out
}

// opensWith reports whether every seeded value decrypts with key.
func opensWith(t *testing.T, db *gorm.DB, key []byte, values map[string]map[string]string) bool {
	t.Helper()
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	for pid, named := range values {
		for name, want := range named {
			got, err := models.NewSystem(db).Tenant(pid).Secrets(box).Value(context.Background(), name)
			var ke *secrets.KeyError
			if err != nil && !errors.As(err, &ke) {
				t.Fatalf("open %s with key %s: %v", name, box.KeyID(), err)
			}
			if err != nil || got != want {
				return false
			}
		}
	}
	return true
}

func readKey(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := secrets.ParseKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestRotateKeyWithKeyFile(t *testing.T) {
	for _, target := range rotationDBs(t) {
		t.Run(target.name, func(t *testing.T) {
			dir := os.Getenv("ENCLAVE_DATA_DIR")
			t.Setenv("DATABASE_URL", target.url)
			os.Remove(filepath.Join(dir, "secrets.key"))
			os.Remove(filepath.Join(dir, "secrets.key.old"))
			if err := run([]string{"migrate"}); err != nil {
				t.Fatal(err)
			}
			keyPath := filepath.Join(dir, "secrets.key")
			oldKey := readKey(t, keyPath)
			values := seed(t, target.db, oldKey)

			// A damaged row makes the rotation fail: nothing changes, on disk or in the database.
			var victim string
			target.db.Raw("SELECT id FROM project_secrets ORDER BY project_id DESC, id DESC LIMIT 1").Row().Scan(&victim)
			var saved []byte
			target.db.Raw("SELECT ciphertext FROM project_secrets WHERE id = ?", victim).Row().Scan(&saved)
			target.db.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", []byte("not a ciphertext at all, too long"), victim)
			var out bytes.Buffer
			err := runSecrets([]string{"rotate-key"}, &out)
			if err == nil || !strings.Contains(err.Error(), "nothing changed") {
				t.Fatalf("rotation over a damaged row: %v", err)
			}
			if !bytes.Equal(readKey(t, keyPath), oldKey) {
				t.Error("the key file changed although the rotation failed")
			}
			for _, f := range []string{"secrets.key.new", "secrets.key.old"} {
				if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists after a failed rotation: %v", f, err)
				}
			}
			target.db.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", saved, victim)
			if !opensWith(t, target.db, oldKey, values) {
				t.Fatal("values do not open with the old key after a failed rotation")
			}

			out.Reset()
			if err := runSecrets([]string{"rotate-key"}, &out); err != nil {
				t.Fatal(err)
			}
			newKey := readKey(t, keyPath)
			if bytes.Equal(newKey, oldKey) {
				t.Fatal("the key file still holds the old key")
			}
			if !bytes.Equal(readKey(t, keyPath+".old"), oldKey) {
				t.Error("secrets.key.old does not hold the previous key")
			}
			if fi, err := os.Stat(keyPath); err != nil {
				t.Fatal(err)
			} else if fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
			}
			if !opensWith(t, target.db, newKey, values) {
				t.Error("values do not open with the new key")
			}
			if opensWith(t, target.db, oldKey, values) {
				t.Error("values still open with the old key")
			}
			if !strings.Contains(out.String(), "Re-encrypted 4 secrets") || strings.Contains(out.String(), secrets.EncodeKey(newKey)) {
				t.Errorf("output: %s", out.String())
			}

			// A key given by the operator is used as is.
			given, err := secrets.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			if err := runSecrets([]string{"rotate-key", "--new-key", secrets.EncodeKey(given)}, &out); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(readKey(t, keyPath), given) || !opensWith(t, target.db, given, values) {
				t.Error("--new-key was not installed")
			}
			for _, bad := range [][]string{{"rotate-key", "--new-key", "short"}, {"rotate-key", "--new-key", secrets.EncodeKey(given)}, {"spin"}} {
				if err := runSecrets(bad, &out); err == nil {
					t.Errorf("%v accepted", bad)
				}
			}
			if !opensWith(t, target.db, given, values) {
				t.Error("a refused rotation changed the values")
			}
		})
	}
}

func TestRotateKeyFromEnvironment(t *testing.T) {
	for _, target := range rotationDBs(t) {
		t.Run(target.name, func(t *testing.T) {
			dir := os.Getenv("ENCLAVE_DATA_DIR")
			t.Setenv("DATABASE_URL", target.url)
			oldKey, err := secrets.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("ENCLAVE_SECRETS_KEY", secrets.EncodeKey(oldKey))
			os.Remove(filepath.Join(dir, "secrets.key"))
			values := seed(t, target.db, oldKey)

			var out bytes.Buffer
			if err := runSecrets([]string{"rotate-key"}, &out); err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`(?m)^\s+([A-Za-z0-9+/=]{44})$`).FindStringSubmatch(out.String())
			if m == nil || !strings.Contains(out.String(), "Set ENCLAVE_SECRETS_KEY") {
				t.Fatalf("the new key is not printed: %s", out.String())
			}
			newKey, err := secrets.ParseKey(m[1])
			if err != nil {
				t.Fatal(err)
			}
			if !opensWith(t, target.db, newKey, values) || opensWith(t, target.db, oldKey, values) {
				t.Error("values are not under the printed key")
			}
			if _, err := os.Stat(filepath.Join(dir, "secrets.key")); !errors.Is(err, os.ErrNotExist) {
				t.Error("a key file was written although the key comes from the environment")
			}

			// The next rotation takes its new key from ENCLAVE_SECRETS_NEW_KEY and does not print it.
			t.Setenv("ENCLAVE_SECRETS_KEY", m[1])
			third, err := secrets.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("ENCLAVE_SECRETS_NEW_KEY", secrets.EncodeKey(third))
			out.Reset()
			if err := runSecrets([]string{"rotate-key"}, &out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), secrets.EncodeKey(third)) || !opensWith(t, target.db, third, values) {
				t.Errorf("rotation to ENCLAVE_SECRETS_NEW_KEY: %s", out.String())
			}
			t.Setenv("ENCLAVE_SECRETS_NEW_KEY", "")

			t.Setenv("ENCLAVE_SECRETS_KEY", "bm90IGEga2V5")
			if err := run([]string{"migrate"}); err == nil || !strings.Contains(err.Error(), "ENCLAVE_SECRETS_KEY") {
				t.Errorf("a bad ENCLAVE_SECRETS_KEY at start-up: %v", err)
			}
		})
	}
}

func TestSecretsKeyAtStartup(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	t.Setenv("ENCLAVE_SECRETS_KEY", "")
	if err := run([]string{"migrate"}); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "secrets.key")
	key := readKey(t, keyPath)
	if fi, err := os.Stat(keyPath); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("generated key file mode %v", fi.Mode().Perm())
	}
	if err := run([]string{"migrate"}); err != nil || !bytes.Equal(readKey(t, keyPath), key) {
		t.Fatalf("the key changed between starts: %v", err)
	}

	// Secrets sealed with another key are reported at start-up, by count and key id.
	db, err := models.Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB(db)
	other, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	seed(t, db, other)
	var logs bytes.Buffer
	cfg := web.ConfigFromEnv(os.Getenv)
	if err := cfg.PrepareDataDir(); err != nil {
		t.Fatal(err)
	}
	warnForeignSecrets(context.Background(), db, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if got := logs.String(); !strings.Contains(got, "count=4") || !strings.Contains(got, secrets.KeyID(key)) {
		t.Errorf("start-up warning: %q", got)
	}

	// A damaged key file stops start-up with a clear message and is left alone.
	if err := os.WriteFile(keyPath, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = run([]string{"migrate"})
	if err == nil || !strings.Contains(err.Error(), "not a valid secrets key file") || !strings.Contains(err.Error(), "Do not delete it") {
		t.Errorf("damaged key file: %v", err)
	}
	if b, err := os.ReadFile(keyPath); err != nil || string(b) != "garbage\n" {
		t.Errorf("the damaged key file was replaced: %q, %v", b, err)
	}
}
