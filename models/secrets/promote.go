package secrets

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"enclave/models/audit"
	"enclave/models/kit"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Pair is a secret name as two projects have it: in one, the other or
// both, and then whether the values are the same. Values are compared in
// the server and never leave it.
type Pair struct {
	Name     string
	InA, InB bool
	// Same is set when both have the name and the values are equal; it is
	// false when box could not compare them (no key).
	Same bool
}

// ComparePair lists the secret names of projects a and b, on tx, by name.
// With box, the values of the names both have are opened and compared (a
// value that does not open compares as different).
func ComparePair(ctx context.Context, tx *gorm.DB, box *Box, a, b string) ([]Pair, error) {
	var rows []secretRow
	if err := tx.WithContext(ctx).Where("project_id IN ?", []string{a, b}).Order("name, project_id").Find(&rows).Error; err != nil {
		return nil, err
	}
	byName := map[string]*Pair{}
	var names []string
	values := map[string][2][]byte{}
	for _, r := range rows {
		p := byName[r.Name]
		if p == nil {
			p = &Pair{Name: r.Name}
			byName[r.Name] = p
			names = append(names, r.Name)
		}
		v := values[r.Name]
		side := 1
		if r.ProjectID == a {
			p.InA, side = true, 0
		} else {
			p.InB = true
		}
		if box == nil {
			continue
		}
		// A value sealed with another key (or tampered with) is not
		// compared: it shows as different.
		if plain, err := box.open(r); err == nil {
			v[side] = plain
			values[r.Name] = v
		}
	}
	out := make([]Pair, 0, len(names))
	for _, n := range names {
		p := byName[n]
		if v, ok := values[n]; ok && p.InA && p.InB && v[0] != nil && v[1] != nil {
			p.Same = subtle.ConstantTimeCompare(v[0], v[1]) == 1
		}
		out = append(out, *p)
	}
	return out, nil
}

// CopyByName copies the values of the secrets called names from project
// from to project to, on tx: each value is opened and sealed again for to
// in the server (a value is bound to its project and row), replacing the
// value of to's secret of that name or making one. A name from does not
// have is kit.ErrNotFound; a server without a key (nil box), or a value
// that does not open with it, is a ValidationError on "items".
func CopyByName(ctx context.Context, tx *gorm.DB, box *Box, from, to string, names []string, a audit.Actor) error {
	if len(names) > 0 && box == nil {
		return &kit.ValidationError{Fields: map[string]string{"items": "The server has no secrets key, so secrets cannot be copied."}}
	}
	src, dst := kit.Bind(tx, from), kit.Bind(tx, to)
	now := kit.Now()
	for _, name := range names {
		r, err := rowOf(ctx, src, "name", name)
		if err != nil {
			return fmt.Errorf("secret %s: %w", name, err)
		}
		plain, err := box.open(r)
		if err != nil {
			return &kit.ValidationError{Fields: map[string]string{"items": "The secret " + kit.Quote(name) +
				" cannot be opened with the server's key, so it cannot be copied: give it a new value first."}}
		}
		cur, err := rowOf(ctx, dst, "name", name)
		if errors.Is(err, kit.ErrNotFound) {
			c := secretRow{ID: uuid.NewString(), ProjectID: to, Name: name, KeyID: box.KeyID(), Hint: r.Hint,
				CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}
			if c.Ciphertext, err = box.seal(to, c.ID, plain); err != nil {
				return err
			}
			if err := tx.WithContext(ctx).Create(&c).Error; err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		ct, err := box.seal(to, cur.ID, plain)
		if err != nil {
			return err
		}
		if err := dst.Scoped(ctx).Model(&secretRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"ciphertext": ct, "key_id": box.KeyID(), "hint": r.Hint, "updated_at": now, "updated_by": a.UserRef()}).Error; err != nil {
			return err
		}
	}
	return nil
}
