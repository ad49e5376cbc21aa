// Package kit is the vocabulary every domain package of models shares: the
// errors a store answers with, the project-bound database handle, free-text
// name rules, one-time tokens, and the epoch that tells caches a write has
// changed who may do what. It imports nothing of Enclave's.
package kit

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"gorm.io/gorm"
)

// Now is the time a store writes: UTC, to the microsecond both databases keep.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Dialect names the database engine behind a *gorm.DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DialectOf tells which engine db talks to.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// authEpoch counts the committed writes that can change who a caller is or
// what they may do; see AuthEpoch.
var authEpoch atomic.Uint64

// AuthEpoch is a process-wide counter that moves after every write that can
// change who a caller is or what they may do: sessions saved or deleted,
// users, projects and their settings, memberships, access policies (every
// audited change, through Bound.InTx and audit.Record). A cache of resolved
// callers stays correct on this process by dropping what it filled under an
// older epoch; other processes sharing the database do not see this counter.
//
// Writers bump it after their change is committed, so that a resolution that
// read the epoch before the bump, and so may have seen the old rows, is never
// taken for a fresh one. Read the epoch before resolving, not after.
func AuthEpoch() uint64 { return authEpoch.Load() }

// BumpAuthEpoch moves AuthEpoch; call it once a write is committed.
func BumpAuthEpoch() { authEpoch.Add(1) }

// NewToken returns a random URL-safe token of 256 bits, for links sent by
// mail and session cookies.
func NewToken() (string, error) { return NewTokenOf(32) }

// NewTokenOf returns a random URL-safe token of n bytes.
func NewTokenOf(n int) (string, error) {
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// HashToken is how a token is stored: a SHA-256, so that the database never
// holds a usable link or session.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// StringList is a list of strings kept as a JSON array in one text column,
// the same on SQLite and PostgreSQL.
type StringList []string

// Value implements driver.Valuer.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *StringList) Scan(src any) error {
	var b []byte
	switch s := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		b = []byte(s)
	case []byte:
		b = s
	default:
		return errors.New("StringList: unsupported column type")
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// IsUUID reports whether s is a UUID, as every row id is: an id that is not
// one names nothing, and need not be looked up.
func IsUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}
