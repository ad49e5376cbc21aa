// Package secrets keeps each project's secrets sealed with the server's key
// (AES-256-GCM, bound to the project and the secret's id), shows only a hint
// of a value, and re-encrypts every value when the key rotates.
package secrets

import (
	"context"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// secretRow is a project secret as stored. The value exists only as
// ciphertext, and the row never leaves this package.
type secretRow struct {
	ID         string
	ProjectID  string
	Name       string
	Ciphertext []byte
	KeyID      string
	Hint       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	UpdatedBy  *string
}

func (secretRow) TableName() string { return "project_secrets" }

// Secret describes a project secret without its value, which is write-only.
type Secret struct {
	ID   string
	Name string
	// Hint is the masked value, e.g. "••••••3f9a".
	Hint      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// UpdatedBy is the user who last changed it; nil when unknown or deleted.
	UpdatedBy *accounts.User
}

// Limits of secret names and values.
const (
	MaxName  = 100
	MaxValue = 10 * 1024 // bytes
)

var secretNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

const secretNameTaken = "This project already has a secret with this name."

// checkSecretName trims name and adds any problem with it to v.
func checkSecretName(name string, v *kit.ValidationError) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		v.Add("name", "Name is required.")
	case utf8.RuneCountInString(name) > MaxName:
		v.Add("name", fmt.Sprintf("Name must be at most %d characters.", MaxName))
	case !secretNamePattern.MatchString(name):
		v.Add("name", "Use only letters, digits, underscore (_), hyphen (-) and dot (.) in a name.")
	}
	return name
}

func checkSecretValue(value string, v *kit.ValidationError) {
	switch {
	case strings.TrimSpace(value) == "":
		v.Add("value", "Value is required.")
	case len(value) > MaxValue:
		v.Add("value", "Value must be at most 10 KB.")
	}
}

// secretHint masks a value: only dots, plus the last 4 characters when the
// value is long enough (12 or more) that they give little away.
func secretHint(value string) string {
	const dots = "••••••"
	r := []rune(value)
	if len(r) < 12 {
		return dots
	}
	return dots + string(r[len(r)-4:])
}

// Secrets is a project's secrets store: the Tenant's rows, sealed and opened
// with one key.
type Store struct {
	b   kit.Bound
	box *Box
}

// For is the secrets store of b's project, sealed and opened with box.
func For(b kit.Bound, box *Box) Store { return Store{b: b, box: box} }

// List returns the project's secrets by name, without values.
func (s Store) List(ctx context.Context) ([]Secret, error) {
	var rows []secretRow
	if err := s.b.Scoped(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, err
	}
	return s.describe(ctx, rows)
}

// Get describes one secret; another project's id is kit.ErrNotFound.
func (s Store) Get(ctx context.Context, id string) (Secret, error) {
	r, err := s.row(ctx, "id", id)
	if err != nil {
		return Secret{}, err
	}
	out, err := s.describe(ctx, []secretRow{r})
	if err != nil {
		return Secret{}, err
	}
	return out[0], nil
}

// Value decrypts the value of the secret called name, for the code that
// uses secrets (API clients, bots). The console never shows it.
func (s Store) Value(ctx context.Context, name string) (string, error) {
	r, err := s.row(ctx, "name", name)
	if err != nil {
		return "", err
	}
	plain, err := s.box.open(r)
	return string(plain), err
}

// Create validates and stores a new secret.
func (s Store) Create(ctx context.Context, a audit.Actor, name, value string) (Secret, error) {
	v := &kit.ValidationError{}
	name = checkSecretName(name, v)
	checkSecretValue(value, v)
	if err := v.Err(); err != nil {
		return Secret{}, err
	}
	ts := kit.Now()
	r := secretRow{ID: uuid.NewString(), ProjectID: s.b.ProjectID(), Name: name, Hint: secretHint(value),
		KeyID: s.box.KeyID(), CreatedAt: ts, UpdatedAt: ts, UpdatedBy: a.UserRef()}
	var err error
	if r.Ciphertext, err = s.box.seal(r.ProjectID, r.ID, []byte(value)); err != nil {
		return Secret{}, err
	}
	err = s.b.InTx(ctx, func(tx kit.Bound) error {
		if err := tx.CheckNameFree(ctx, &secretRow{}, name, "", secretNameTaken); err != nil {
			return err
		}
		if err := tx.DB().WithContext(ctx).Create(&r).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return &kit.ValidationError{Fields: map[string]string{"name": secretNameTaken}}
			}
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionSecretCreated, name, map[string]any{"id": r.ID})
	})
	if err != nil {
		return Secret{}, err
	}
	return s.Get(ctx, r.ID)
}

// Replace gives a secret a new value.
func (s Store) Replace(ctx context.Context, a audit.Actor, id, value string) (Secret, error) {
	v := &kit.ValidationError{}
	checkSecretValue(value, v)
	if err := v.Err(); err != nil {
		return Secret{}, err
	}
	err := s.b.InTx(ctx, func(tx kit.Bound) error {
		r, err := rowOf(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		ct, err := s.box.seal(r.ProjectID, r.ID, []byte(value))
		if err != nil {
			return err
		}
		if err := tx.Scoped(ctx).Model(&secretRow{}).Where("id = ?", id).Updates(map[string]any{
			"ciphertext": ct, "key_id": s.box.KeyID(), "hint": secretHint(value),
			"updated_at": kit.Now(), "updated_by": a.UserRef()}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionSecretUpdated, r.Name, map[string]any{"id": id})
	})
	if err != nil {
		return Secret{}, err
	}
	return s.Get(ctx, id)
}

// Rename changes a secret's name; its value stays as it is. Renaming to the
// current name changes nothing and records nothing.
func (s Store) Rename(ctx context.Context, a audit.Actor, id, name string) (Secret, error) {
	v := &kit.ValidationError{}
	name = checkSecretName(name, v)
	if err := v.Err(); err != nil {
		return Secret{}, err
	}
	err := s.b.InTx(ctx, func(tx kit.Bound) error {
		r, err := rowOf(ctx, tx, "id", id)
		if err != nil || r.Name == name {
			return err
		}
		if err := tx.CheckNameFree(ctx, &secretRow{}, name, id, secretNameTaken); err != nil {
			return err
		}
		if err := tx.Scoped(ctx).Model(&secretRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": name, "updated_at": kit.Now(), "updated_by": a.UserRef()}).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return &kit.ValidationError{Fields: map[string]string{"name": secretNameTaken}}
			}
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionSecretRenamed, name, map[string]any{"id": id, "name": audit.Change{Before: r.Name, After: name}})
	})
	if err != nil {
		return Secret{}, err
	}
	return s.Get(ctx, id)
}

// Delete removes a secret.
func (s Store) Delete(ctx context.Context, a audit.Actor, id string) error {
	return s.b.InTx(ctx, func(tx kit.Bound) error {
		r, err := rowOf(ctx, tx, "id", id)
		if err != nil {
			return err
		}
		if err := tx.Scoped(ctx).Where("id = ?", id).Delete(&secretRow{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionSecretDeleted, r.Name, map[string]any{"id": id})
	})
}

// secretRow loads one of the project's rows by id or name.
func (s Store) row(ctx context.Context, column, value string) (secretRow, error) {
	return rowOf(ctx, s.b, column, value)
}

// rowOf loads one of b's project's rows by id or name.
func rowOf(ctx context.Context, b kit.Bound, column, value string) (secretRow, error) {
	var r secretRow
	err := b.Scoped(ctx).Where(column+" = ?", value).Take(&r).Error
	return r, kit.NotFound(err)
}

// describe turns rows into Secrets, with the users who last changed them.
func (s Store) describe(ctx context.Context, rows []secretRow) ([]Secret, error) {
	var ids []string
	for _, r := range rows {
		if r.UpdatedBy != nil {
			ids = append(ids, *r.UpdatedBy)
		}
	}
	byID := map[string]accounts.User{}
	if len(ids) > 0 {
		var users []accounts.User
		if err := s.b.DB().WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
			return nil, err
		}
		for _, u := range users {
			byID[u.ID] = u
		}
	}
	out := make([]Secret, len(rows))
	for i, r := range rows {
		out[i] = Secret{ID: r.ID, Name: r.Name, Hint: r.Hint, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		if r.UpdatedBy != nil {
			if u, ok := byID[*r.UpdatedBy]; ok {
				out[i].UpdatedBy = &u
			}
		}
	}
	return out, nil
}

// Keys acts on the secrets of every project at once: key rotation.
type Keys struct{ db *gorm.DB }

// NewKeys returns the server-wide key operations on db.
func NewKeys(db *gorm.DB) Keys { return Keys{db: db} }

// RotateSecretsKey re-encrypts every secret of every project from one key to
// another in a single transaction, and returns how many it re-encrypted.
// Values already under the new key are left alone, so a rotation that was
// interrupted after its commit can be run again. Any failure rolls back:
// every value stays under the old key.
func (k Keys) RotateSecretsKey(ctx context.Context, from, to *Box) (int, error) {
	n := 0
	err := k.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		n = 0
		if kit.DialectOf(tx) == kit.Postgres {
			// Writers wait until the rotation is done; readers carry on.
			if err := tx.Exec("LOCK TABLE project_secrets IN EXCLUSIVE MODE").Error; err != nil {
				return err
			}
		}
		var rows []secretRow
		if err := tx.Order("project_id, id").Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			if r.KeyID == to.KeyID() {
				continue
			}
			plain, err := from.open(r)
			if err != nil {
				return fmt.Errorf("project %s: %w", r.ProjectID, err)
			}
			ct, err := to.seal(r.ProjectID, r.ID, plain)
			if err != nil {
				return err
			}
			if err := tx.Model(&secretRow{}).Where("id = ? AND project_id = ?", r.ID, r.ProjectID).
				Updates(map[string]any{"ciphertext": ct, "key_id": to.KeyID()}).Error; err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SecretsUnderOtherKeys counts the secrets, over all projects, that were not
// sealed with box's key and so cannot be opened with it.
func (k Keys) SecretsUnderOtherKeys(ctx context.Context, box *Box) (int64, error) {
	var n int64
	err := k.db.WithContext(ctx).Model(&secretRow{}).Where("key_id <> ?", box.KeyID()).Count(&n).Error
	return n, err
}

// CopyProject seals a copy of every secret of project from for project to,
// on tx (the transaction of a project clone), and returns how many it
// copied. Each value is opened and sealed again in the server, since a
// value is bound to its project and id; it never leaves the process. A value
// that does not open (another key, a tampered row) fails the whole copy.
func CopyProject(ctx context.Context, tx *gorm.DB, box *Box, from, to string, a audit.Actor) (int, error) {
	var rows []secretRow
	if err := tx.WithContext(ctx).Where("project_id = ?", from).Order("name").Find(&rows).Error; err != nil {
		return 0, err
	}
	if len(rows) > 0 && box == nil {
		return 0, fmt.Errorf("%w: the server has no secrets key, so the project's secrets cannot be copied", kit.ErrConflict)
	}
	now := kit.Now()
	for _, r := range rows {
		plain, err := box.open(r)
		if err != nil {
			return 0, err
		}
		c := secretRow{ID: uuid.NewString(), ProjectID: to, Name: r.Name, KeyID: box.KeyID(), Hint: r.Hint,
			CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}
		if c.Ciphertext, err = box.seal(to, c.ID, plain); err != nil {
			return 0, err
		}
		if err := tx.WithContext(ctx).Create(&c).Error; err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
