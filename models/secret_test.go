package models_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/secrets"
	"enclave/models/testdb"
)

func newTestBox(t *testing.T) *secrets.Box {
	t.Helper()
	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func TestSecretBoxKeys(t *testing.T) {
	if _, err := secrets.NewBox(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	for _, s := range []string{"", "not base64!", base64.StdEncoding.EncodeToString(make([]byte, 31))} {
		if _, err := secrets.ParseKey(s); !errors.Is(err, secrets.ErrBadKey) {
			t.Errorf("ParseSecretKey(%q): %v", s, err)
		}
	}
	key, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := secrets.ParseKey(" " + secrets.EncodeKey(key) + "\n")
	if err != nil || !bytes.Equal(back, key) {
		t.Errorf("key does not survive its text form: %v", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	if id := box.KeyID(); len(id) != 8 || id != secrets.KeyID(key) {
		t.Errorf("key id %q", id)
	}
	other, err := secrets.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if secrets.KeyID(other) == secrets.KeyID(key) {
		t.Error("two keys share an id")
	}
}

func TestSecrets(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			bob := testdb.NewUser(t, sys, "bob@example.org")
			pa, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			if err != nil {
				t.Fatal(err)
			}
			pb, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			box := newTestBox(t)
			sa := sys.Tenant(pa.ID).Secrets(box)
			sb := sys.Tenant(pb.ID).Secrets(box)
			asAda := audit.Actor{UserID: ada.ID, Email: ada.Email}
			asBob := audit.Actor{UserID: bob.ID, Email: bob.Email}

			const value = "sk_live_0123456789abcdef"
			s, err := sa.Create(ctx, asAda, "  API_KEY ", value)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != "API_KEY" || s.Hint != "••••••cdef" || s.UpdatedBy == nil || s.UpdatedBy.ID != ada.ID {
				t.Errorf("created %+v", s)
			}
			if got, err := sa.Value(ctx, "API_KEY"); err != nil || got != value {
				t.Errorf("value back: %q, %v", got, err)
			}

			// Hints reveal the last 4 characters only from 12 characters on.
			hints := []struct{ value, want string }{{"abc", "••••••"}, {"12345678901", "••••••"}, {"123456789012", "••••••9012"}, {"ééééééééééüñîç", "••••••üñîç"}}
			for i, c := range hints {
				v, want := c.value, c.want
				h, err := sa.Create(ctx, asAda, fmt.Sprintf("H%d", i), v)
				if err != nil || h.Hint != want {
					t.Errorf("hint of %q: %q (%v), want %q", v, h.Hint, err, want)
				}
			}

			// Validation, per field.
			cases := []struct{ name, value, field, msg string }{
				{"", "x", "name", "required"},
				{"has space", "x", "name", "letters, digits"},
				{"naïve", "x", "name", "letters, digits"},
				{"a/b", "x", "name", "letters, digits"},
				{strings.Repeat("n", 101), "x", "name", "at most 100"},
				{"OK", "", "value", "required"},
				{"OK", " \n\t", "value", "required"},
				{"OK", strings.Repeat("v", 10*1024+1), "value", "at most 10 KB"},
				{"API_KEY", "x", "name", "already has a secret"},
			}
			for _, c := range cases {
				_, err := sa.Create(ctx, asAda, c.name, c.value)
				if got := kit.FieldErrors(err)[c.field]; !strings.Contains(got, c.msg) {
					t.Errorf("create %.20q=%.20q: %s error %q (%v), want %q", c.name, c.value, c.field, got, err, c.msg)
				}
			}
			if _, err := sa.Create(ctx, asAda, "a.b-c_D9"+strings.Repeat("n", 92), strings.Repeat("v", 10*1024)); err != nil {
				t.Errorf("longest name and value refused: %v", err)
			}
			// The same name is free in another project.
			if _, err := sb.Create(ctx, asAda, "API_KEY", "beta-value-000000"); err != nil {
				t.Errorf("same name in project B: %v", err)
			}

			// Replace.
			s, err = sa.Replace(ctx, asBob, s.ID, "new-value-ffff")
			if err != nil || s.Hint != "••••••ffff" || s.UpdatedBy == nil || s.UpdatedBy.ID != bob.ID {
				t.Fatalf("replace: %+v, %v", s, err)
			}
			if got, err := sa.Value(ctx, "API_KEY"); err != nil || got != "new-value-ffff" {
				t.Errorf("value after replace %q, %v", got, err)
			}
			if _, err := sa.Replace(ctx, asBob, s.ID, ""); kit.FieldErrors(err)["value"] == "" {
				t.Errorf("empty replacement: %v", err)
			}

			// Rename keeps the value.
			s, err = sa.Rename(ctx, asAda, s.ID, "STRIPE.KEY")
			if err != nil || s.Name != "STRIPE.KEY" {
				t.Fatalf("rename: %+v, %v", s, err)
			}
			if got, err := sa.Value(ctx, "STRIPE.KEY"); got != "new-value-ffff" || err != nil {
				t.Errorf("value after rename %q, %v", got, err)
			}
			if _, err := sa.Value(ctx, "API_KEY"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("old name still answers: %v", err)
			}
			if _, err := sa.Create(ctx, asAda, "TAKEN", "x"); err != nil {
				t.Fatal(err)
			}
			for name, msg := range map[string]string{"TAKEN": "already has a secret", "bad name": "letters", "": "required"} {
				if _, err := sa.Rename(ctx, asAda, s.ID, name); !strings.Contains(kit.FieldErrors(err)["name"], msg) {
					t.Errorf("rename to %q: %v", name, err)
				}
			}
			if _, err := sa.Rename(ctx, asAda, s.ID, "STRIPE.KEY"); err != nil {
				t.Errorf("rename to its own name: %v", err)
			}

			// Project B cannot see or touch A's secret.
			if _, err := sb.Get(ctx, s.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("B reads A's secret: %v", err)
			}
			if _, err := sb.Replace(ctx, asAda, s.ID, "hijack"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("B replaces A's secret: %v", err)
			}
			if _, err := sb.Rename(ctx, asAda, s.ID, "HIJACK"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("B renames A's secret: %v", err)
			}
			if err := sb.Delete(ctx, asAda, s.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("B deletes A's secret: %v", err)
			}
			if got, err := sa.Value(ctx, "STRIPE.KEY"); got != "new-value-ffff" || err != nil {
				t.Errorf("A's secret after B's attempts: %q, %v", got, err)
			}

			list, err := sa.List(ctx)
			if err != nil || len(list) != 7 {
				t.Errorf("list: %d secrets, %v", len(list), err)
			}
			for i := 1; i < len(list); i++ {
				if list[i-1].Name > list[i].Name {
					t.Errorf("list not sorted by name: %q before %q", list[i-1].Name, list[i].Name)
				}
			}

			// Delete.
			if err := sa.Delete(ctx, asAda, s.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := sa.Get(ctx, s.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("deleted secret: %v", err)
			}
			if err := sa.Delete(ctx, asAda, s.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("second delete: %v", err)
			}

			// The audit log has every action, with the name and never the value.
			events, _, err := sys.Tenant(pa.ID).AuditLog(ctx, audit.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			for _, e := range events {
				seen[e.Action] += e.Target + " "
				for _, v := range []string{value, "new-value-ffff", "ffff"} {
					if strings.Contains(e.Details, v) || strings.Contains(e.Target, v) {
						t.Errorf("audit event %s carries %q: %s", e.Action, v, e.Details)
					}
				}
			}
			for action, target := range map[string]string{audit.ActionSecretCreated: "API_KEY", audit.ActionSecretUpdated: "API_KEY",
				audit.ActionSecretRenamed: "STRIPE.KEY", audit.ActionSecretDeleted: "STRIPE.KEY"} {
				if !strings.Contains(seen[action], target) {
					t.Errorf("audit: %s for %s missing (have %v)", action, target, seen)
				}
			}
			if n := strings.Count(seen[audit.ActionSecretRenamed], "STRIPE.KEY"); n != 1 {
				t.Errorf("%d rename events, want 1 (renaming to the same name records nothing)", n)
			}
		})
	}
}

func TestSecretCiphertexts(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			pa, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Alpha"})
			if err != nil {
				t.Fatal(err)
			}
			pb, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: "Beta"})
			if err != nil {
				t.Fatal(err)
			}
			box := newTestBox(t)
			sa, sb := sys.Tenant(pa.ID).Secrets(box), sys.Tenant(pb.ID).Secrets(box)
			one, err := sa.Create(ctx, audit.Actor{}, "ONE", "same-value-for-both")
			if err != nil {
				t.Fatal(err)
			}
			two, err := sa.Create(ctx, audit.Actor{}, "TWO", "same-value-for-both")
			if err != nil {
				t.Fatal(err)
			}
			other, err := sb.Create(ctx, audit.Actor{}, "OTHER", "project-b-value")
			if err != nil {
				t.Fatal(err)
			}

			cts := make([][]byte, 2)
			for i, id := range []string{one.ID, two.ID} {
				if err := db.DB.Raw("SELECT ciphertext FROM project_secrets WHERE id = ?", id).Row().Scan(&cts[i]); err != nil {
					t.Fatal(err)
				}
			}
			if len(cts) != 2 || bytes.Equal(cts[0], cts[1]) {
				t.Errorf("equal values must get different ciphertexts (fresh nonce): %x", cts)
			}
			if hits := testdb.RowsContaining(t, db.DB, []byte("same-value-for-both")); len(hits) > 0 {
				t.Errorf("plaintext found in %v", hits)
			}
			// The scan does see text and bytes.
			if hits := testdb.RowsContaining(t, db.DB, cts[1][4:20]); len(hits) != 1 || hits[0] != "project_secrets.ciphertext" {
				t.Errorf("scan for ciphertext bytes found %v", hits)
			}
			if hits := testdb.RowsContaining(t, db.DB, []byte("Beta")); len(hits) == 0 {
				t.Error("scan for a project name found nothing")
			}

			// A ciphertext copied to another secret, or another project, does not open.
			db.DB.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", cts[0], two.ID)
			if _, err := sa.Value(ctx, "TWO"); !errors.Is(err, secrets.ErrTampered) {
				t.Errorf("ciphertext moved to another secret: %v", err)
			}
			db.DB.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", cts[0], other.ID)
			if _, err := sb.Value(ctx, "OTHER"); !errors.Is(err, secrets.ErrTampered) {
				t.Errorf("ciphertext moved to another project: %v", err)
			}
			if got, err := sa.Value(ctx, "ONE"); err != nil || got != "same-value-for-both" {
				t.Errorf("untouched secret: %q, %v", got, err)
			}

			// Another key is named in the error instead of giving garbage.
			wrong := newTestBox(t)
			_, err = sys.Tenant(pa.ID).Secrets(wrong).Value(ctx, "ONE")
			var ke *secrets.KeyError
			if !errors.As(err, &ke) || ke.StoredKey != box.KeyID() || ke.CurrentKey != wrong.KeyID() || !strings.Contains(err.Error(), box.KeyID()) {
				t.Errorf("wrong key: %v", err)
			}
			if n, err := sys.SecretsUnderOtherKeys(ctx, wrong); err != nil || n != 3 {
				t.Errorf("%d secrets under other keys, %v; want 3", n, err)
			}
			if n, err := sys.SecretsUnderOtherKeys(ctx, box); err != nil {
				t.Error(err)
			} else if n != 0 {
				t.Errorf("%d secrets under other keys, want 0", n)
			}
		})
	}
}

func TestRotateSecretsKey(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ada := testdb.NewUser(t, sys, "ada@example.org")
			oldBox, newBox := newTestBox(t), newTestBox(t)
			values := map[string]map[string]string{}
			for _, name := range []string{"Alpha", "Beta"} {
				p, err := sys.CreateProject(ctx, ada.ID, projects.NewProject{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				values[p.ID] = map[string]string{}
				for _, s := range []string{"A", "B", "C"} {
					v := name + "-" + s + "-value-0123"
					if _, err := sys.Tenant(p.ID).Secrets(oldBox).Create(ctx, audit.Actor{}, s, v); err != nil {
						t.Fatal(err)
					}
					values[p.ID][s] = v
				}
			}
			check := func(box *secrets.Box) {
				t.Helper()
				for pid, secrets := range values {
					for name, want := range secrets {
						if got, err := sys.Tenant(pid).Secrets(box).Value(ctx, name); err != nil || got != want {
							t.Errorf("%s/%s with key %s: %q, %v", pid[:8], name, box.KeyID(), got, err)
						}
					}
				}
			}

			// A failure on the last row rolls back the rows already re-encrypted.
			var last struct{ ID, ProjectID string }
			db.DB.Raw("SELECT id, project_id FROM project_secrets ORDER BY project_id DESC, id DESC LIMIT 1").Scan(&last)
			var saved []byte
			if err := db.DB.Raw("SELECT ciphertext FROM project_secrets WHERE id = ?", last.ID).Row().Scan(&saved); err != nil || len(saved) < 28 {
				t.Fatalf("read ciphertext: %v (%d bytes)", err, len(saved))
			}
			broken := append([]byte(nil), saved...)
			broken[len(broken)-1] ^= 1
			db.DB.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", broken, last.ID)
			if n, err := sys.RotateSecretsKey(ctx, oldBox, newBox); !errors.Is(err, secrets.ErrTampered) || n != 0 {
				t.Fatalf("rotation over a damaged row: %d, %v", n, err)
			}
			if n, err := sys.SecretsUnderOtherKeys(ctx, oldBox); err != nil {
				t.Error(err)
			} else if n != 0 {
				t.Errorf("after a failed rotation %d secrets left the old key", n)
			}
			db.DB.Exec("UPDATE project_secrets SET ciphertext = ? WHERE id = ?", saved, last.ID)
			check(oldBox)

			n, err := sys.RotateSecretsKey(ctx, oldBox, newBox)
			if err != nil || n != 6 {
				t.Fatalf("rotate: %d, %v", n, err)
			}
			check(newBox)
			var ke *secrets.KeyError
			for pid := range values {
				if _, err := sys.Tenant(pid).Secrets(oldBox).Value(ctx, "A"); !errors.As(err, &ke) {
					t.Errorf("old key still opens a value: %v", err)
				}
			}
			// Running it again finds nothing to do.
			if n, err := sys.RotateSecretsKey(ctx, oldBox, newBox); err != nil || n != 0 {
				t.Errorf("second rotation: %d, %v", n, err)
			}
			newBox2 := newTestBox(t)
			// With the wrong old key nothing can be re-encrypted.
			if _, err := sys.RotateSecretsKey(ctx, oldBox, newBox2); !errors.As(err, &ke) {
				t.Errorf("rotation from a key that is not in use: %v", err)
			}
			check(newBox)
		})
	}
}
