// Package clients holds a project's API clients: programs that sign in with
// a client id and secret (the OAuth 2.0 client_credentials grant) and then
// call the FHIR API in that one project, under the client's access policy.
// A secret is shown once, when it is made, and stored only as a hash; a
// rotation keeps the previous secret working for a grace period.
package clients

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Limits of a client's fields.
const (
	MaxName         = 100
	MaxDescription  = 1000
	MaxRedirectURIs = 20
	MaxRedirectURI  = 2000

	// A token lives DefaultTokenLifetime unless the client says otherwise,
	// within MinTokenLifetime and MaxTokenLifetime. Signing keys are kept
	// for verification for MaxTokenLifetime after they are replaced.
	DefaultTokenLifetime = time.Hour
	MinTokenLifetime     = 5 * time.Minute
	MaxTokenLifetime     = 24 * time.Hour

	// After a rotation the previous secret keeps working for the grace
	// period the admin picks: DefaultGrace unless they say, at most MaxGrace.
	DefaultGrace = 24 * time.Hour
	MaxGrace     = 30 * 24 * time.Hour
)

// ErrBadClient refuses a client sign-in: an unknown client, a disabled one,
// or a wrong secret. The wrapped text says which, for the log only.
var ErrBadClient = errors.New("invalid client")

// row is a client as stored; it never leaves this package.
type row struct {
	ID             string
	ProjectID      string
	Name           string
	Description    string
	RedirectURIs   kit.StringList `gorm:"column:redirect_uris"`
	AccessPolicyID *string
	TokenLifetime  int // seconds
	Enabled        bool
	SecretHash     string
	RetiringHash   *string
	RetiringUntil  *time.Time
	RevokedBefore  *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	UpdatedBy      *string
}

func (row) TableName() string { return "client_applications" }

// Client is an API client as the console and the token endpoint see it:
// never its secret.
type Client struct {
	// ID is the client id a program sends.
	ID             string
	ProjectID      string
	Name           string
	Description    string
	RedirectURIs   []string
	AccessPolicyID *string
	TokenLifetime  time.Duration
	Enabled        bool
	// RetiringUntil is when the previous secret stops working, after a
	// rotation; nil when no previous secret works any more.
	RetiringUntil *time.Time
	// RevokedBefore voids every token issued before it; nil when none is.
	RevokedBefore *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TokenValid reports whether a token of this client issued at issued may
// still be used, as far as the client is concerned (its expiry is the
// token's own business).
func (c Client) TokenValid(issued time.Time) bool {
	return c.Enabled && (c.RevokedBefore == nil || !issued.Before(*c.RevokedBefore))
}

func (r row) client() Client {
	c := Client{ID: r.ID, ProjectID: r.ProjectID, Name: r.Name, Description: r.Description,
		RedirectURIs: append([]string{}, r.RedirectURIs...), AccessPolicyID: r.AccessPolicyID,
		TokenLifetime: time.Duration(r.TokenLifetime) * time.Second, Enabled: r.Enabled,
		RevokedBefore: r.RevokedBefore, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.RetiringHash != nil && r.RetiringUntil != nil && clock().Before(*r.RetiringUntil) {
		c.RetiringUntil = r.RetiringUntil
	}
	return c
}

// Input is what an admin sets on a new client.
type Input struct {
	Name        string
	Description string
	// RedirectURIs are kept exactly as given (after trimming), for the
	// authorization-code flow to match.
	RedirectURIs []string
	// AccessPolicyID is one of the project's policies; empty for none
	// (full access to the project's resources).
	AccessPolicyID string
	// TokenLifetime is how long its access tokens live; zero means
	// DefaultTokenLifetime.
	TokenLifetime time.Duration
}

const nameTaken = "This project already has a client with this name."

// check validates in, normalising it.
func (in *Input) check() error {
	v := &kit.ValidationError{}
	in.Name = kit.CheckName(v, "name", "Name", in.Name, MaxName)
	in.Description = strings.TrimSpace(in.Description)
	if utf8.RuneCountInString(in.Description) > MaxDescription {
		v.Add("description", fmt.Sprintf("Description must be at most %d characters.", MaxDescription))
	}
	in.RedirectURIs = checkRedirectURIs(v, in.RedirectURIs)
	in.AccessPolicyID = strings.TrimSpace(in.AccessPolicyID)
	if in.TokenLifetime == 0 {
		in.TokenLifetime = DefaultTokenLifetime
	}
	if in.TokenLifetime < MinTokenLifetime || in.TokenLifetime > MaxTokenLifetime || in.TokenLifetime%time.Second != 0 {
		v.Add("tokenLifetime", fmt.Sprintf("Token lifetime must be from %d minutes to %d hours.",
			int(MinTokenLifetime/time.Minute), int(MaxTokenLifetime/time.Hour)))
	}
	return v.Err()
}

// checkRedirectURIs trims the URIs, drops blank lines and repeats, and
// records the first problem under "redirectUris".
func checkRedirectURIs(v *kit.ValidationError, uris []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range uris {
		u = strings.TrimSpace(u)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		if msg := RedirectURIProblem(u); msg != "" {
			v.Add("redirectUris", kit.Quote(u)+" "+msg)
		}
		out = append(out, u)
	}
	if len(out) > MaxRedirectURIs {
		v.Add("redirectUris", fmt.Sprintf("At most %d redirect URIs.", MaxRedirectURIs))
	}
	return out
}

// RedirectURIProblem says what is wrong with a redirect URI, as the end of a
// sentence that starts with the URI; "" when it is fine. A redirect URI is
// an absolute http(s) address without a fragment or user name; plain http
// only to the machine itself (loopback), as native apps use.
func RedirectURIProblem(s string) string {
	if len(s) > MaxRedirectURI {
		return fmt.Sprintf("is longer than %d characters.", MaxRedirectURI)
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain spaces or control characters."
		}
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "is not an absolute http:// or https:// address."
	}
	switch {
	case strings.Contains(s, "#"):
		return "must not have a fragment (#…)."
	case u.User != nil:
		return "must not contain a user name or password."
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return "must use https:// (plain http:// is allowed only for localhost)."
	}
	return ""
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newSecret returns a client secret of 256 random bits, in hex, and the
// hash it is stored as.
func newSecret() (secret, hash string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	secret = hex.EncodeToString(raw)
	return secret, kit.HashToken(secret), nil
}

// clock is the clients' clock (rotations and grace periods); tests move it.
var clock = kit.Now

// SetClockForTests makes the clients read the time from c until the
// returned function restores the real clock.
func SetClockForTests(c func() time.Time) (restore func()) {
	old := clock
	clock = c
	return func() { clock = old }
}

// Apps are a project's API clients, bound to its handle.
type Apps struct{ b kit.Bound }

// For is the clients store of b's project.
func For(b kit.Bound) Apps { return Apps{b: b} }

// Clients lists the project's clients by name.
func (s Apps) Clients(ctx context.Context) ([]Client, error) {
	var rows []row
	err := s.b.Walled(ctx, func(tx kit.Bound) error {
		return tx.Scoped(ctx).Order("name, id").Find(&rows).Error
	})
	out := make([]Client, len(rows))
	for i, r := range rows {
		out[i] = r.client()
	}
	return out, err
}

// Client loads one of the project's clients; another project's id is
// kit.ErrNotFound.
func (s Apps) Client(ctx context.Context, id string) (Client, error) {
	var r row
	err := s.b.Walled(ctx, func(tx kit.Bound) error {
		var err error
		r, err = rowOf(ctx, tx, id)
		return err
	})
	return r.client(), err
}

// ClientsUsingPolicy counts the project's clients that have the policy.
func (s Apps) ClientsUsingPolicy(ctx context.Context, policyID string) (int64, error) {
	var n int64
	err := s.b.Walled(ctx, func(tx kit.Bound) error {
		return tx.Scoped(ctx).Model(&row{}).Where("access_policy_id = ?", policyID).Count(&n).Error
	})
	return n, err
}

func rowOf(ctx context.Context, b kit.Bound, id string) (row, error) {
	var r row
	if !kit.IsUUID(id) {
		return r, kit.ErrNotFound
	}
	return r, kit.NotFound(b.Scoped(ctx).Where("id = ?", id).Take(&r).Error)
}

// change runs fn on the client id inside one transaction behind the wall,
// and records the event fn names.
func (s Apps) change(ctx context.Context, id string, fn func(tx kit.Bound, r row) (action string, details map[string]any, err error), a audit.Actor) (Client, error) {
	var out row
	err := s.b.InTx(ctx, func(tx kit.Bound) error {
		if err := tx.EnterWall(ctx); err != nil {
			return err
		}
		r, err := rowOf(ctx, tx, id)
		if err != nil {
			return err
		}
		action, details, err := fn(tx, r)
		if err != nil || action == "" {
			return err
		}
		details["id"] = id
		if out, err = rowOf(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, action, r.Name, details)
	})
	return out.client(), err
}

// CreateClient validates and stores a new client, and returns it with its
// secret: the only time the secret exists outside the client's hands.
func (s Apps) CreateClient(ctx context.Context, a audit.Actor, in Input) (Client, string, error) {
	if err := in.check(); err != nil {
		return Client{}, "", err
	}
	secret, hash, err := newSecret()
	if err != nil {
		return Client{}, "", err
	}
	now := clock()
	r := row{ID: uuid.NewString(), ProjectID: s.b.ProjectID(), Name: in.Name, Description: in.Description,
		RedirectURIs: kit.StringList(in.RedirectURIs), TokenLifetime: int(in.TokenLifetime / time.Second),
		Enabled: true, SecretHash: hash, CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}
	if in.AccessPolicyID != "" {
		r.AccessPolicyID = &in.AccessPolicyID
	}
	err = s.b.InTx(ctx, func(tx kit.Bound) error {
		if err := tx.EnterWall(ctx); err != nil {
			return err
		}
		if err := resources.For(tx).CheckPolicyChoice(ctx, in.AccessPolicyID); err != nil {
			return err
		}
		if err := tx.CheckNameFree(ctx, &row{}, r.Name, "", nameTaken); err != nil {
			return err
		}
		if err := tx.DB().WithContext(ctx).Create(&r).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return &kit.ValidationError{Fields: map[string]string{"name": nameTaken}}
			}
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionClientCreated, r.Name, map[string]any{"id": r.ID,
			"description": r.Description, "redirectUris": in.RedirectURIs, "accessPolicy": in.AccessPolicyID,
			"tokenLifetime": in.TokenLifetime.String()})
	})
	if err != nil {
		return Client{}, "", err
	}
	return r.client(), secret, nil
}

// RotateClientSecret gives the client a new secret, returned once. The
// previous one keeps working for grace (zero: it stops at once, as does any
// older one still in its grace period).
func (s Apps) RotateClientSecret(ctx context.Context, a audit.Actor, id string, grace time.Duration) (Client, string, error) {
	if grace < 0 || grace > MaxGrace {
		return Client{}, "", &kit.ValidationError{Fields: map[string]string{"grace": fmt.Sprintf(
			"The grace period must be from 0 to %d days.", int(MaxGrace/(24*time.Hour)))}}
	}
	secret, hash, err := newSecret()
	if err != nil {
		return Client{}, "", err
	}
	c, err := s.change(ctx, id, func(tx kit.Bound, r row) (string, map[string]any, error) {
		now := clock()
		update := map[string]any{"secret_hash": hash, "retiring_hash": nil, "retiring_until": nil,
			"updated_at": now, "updated_by": a.UserRef()}
		var until any
		if grace > 0 {
			t := now.Add(grace)
			update["retiring_hash"], update["retiring_until"], until = r.SecretHash, t, t
		}
		err := tx.Scoped(ctx).Model(&row{}).Where("id = ?", id).Updates(update).Error
		return audit.ActionClientSecretRotated, map[string]any{"oldSecretUntil": until}, err
	}, a)
	if err != nil {
		return Client{}, "", err
	}
	return c, secret, nil
}

// SetClientEnabled turns the client on or off. Turning it off voids every
// token it holds, for good: turning it on again does not bring them back.
// Setting the state it already has changes and records nothing.
func (s Apps) SetClientEnabled(ctx context.Context, a audit.Actor, id string, enabled bool) (Client, error) {
	return s.change(ctx, id, func(tx kit.Bound, r row) (string, map[string]any, error) {
		if r.Enabled == enabled {
			return "", nil, nil
		}
		now := clock()
		update := map[string]any{"enabled": enabled, "updated_at": now, "updated_by": a.UserRef()}
		action := audit.ActionClientEnabled
		if !enabled {
			update["revoked_before"] = now
			action = audit.ActionClientDisabled
		}
		err := tx.Scoped(ctx).Model(&row{}).Where("id = ?", id).Updates(update).Error
		return action, map[string]any{}, err
	}, a)
}

// DeleteClient removes the client: its secrets and tokens stop working.
func (s Apps) DeleteClient(ctx context.Context, a audit.Actor, id string) error {
	return s.b.InTx(ctx, func(tx kit.Bound) error {
		if err := tx.EnterWall(ctx); err != nil {
			return err
		}
		r, err := rowOf(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.Scoped(ctx).Where("id = ?", id).Delete(&row{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.ActionClientDeleted, r.Name, map[string]any{"id": id})
	})
}

// Directory finds clients across projects, by the client id a program
// presents at the token endpoint.
type Directory struct{ db *gorm.DB }

// NewDirectory returns the server-wide look-up on db.
func NewDirectory(db *gorm.DB) Directory { return Directory{db: db} }

// row reads the client clientID, whatever its project: kit.ErrNotFound
// when there is none, or when its project is deleted (a deleted project's
// clients get no token).
func (r Directory) row(ctx context.Context, clientID string) (row, error) {
	var found row
	if !kit.IsUUID(clientID) {
		return found, kit.ErrNotFound
	}
	find := func(tx *gorm.DB) error { return kit.NotFound(tx.Where("id = ?", clientID).Take(&found).Error) }
	var err error
	if kit.DialectOf(r.db) != kit.Postgres {
		err = find(r.db.WithContext(ctx))
	} else {
		err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			// The wall shows this one client, whatever its project.
			if err := kit.EnterWall(ctx, tx, "enclave.client_id", clientID); err != nil {
				return err
			}
			return find(tx)
		})
	}
	if err != nil {
		return found, err
	}
	var live int64
	if err := r.db.WithContext(ctx).Table("projects").Where("id = ? AND deleted_at IS NULL", found.ProjectID).
		Count(&live).Error; err != nil {
		return found, err
	}
	if live == 0 {
		return row{}, kit.ErrNotFound
	}
	return found, nil
}

// ClientByID reads an enabled client by the id a program presents, without
// its secret (the authorization endpoint, a sign-in naming its client):
// kit.ErrNotFound when there is no such enabled client.
func (r Directory) ClientByID(ctx context.Context, clientID string) (Client, error) {
	found, err := r.row(ctx, clientID)
	if err != nil {
		return Client{}, err
	}
	if !found.Enabled {
		return Client{}, kit.ErrNotFound
	}
	return found.client(), nil
}

// AuthenticateClient checks a client id and secret: the current secret, or
// the previous one during its grace period. Unknown, disabled and wrong
// all answer ErrBadClient (wrapped with the reason, for the log).
func (r Directory) AuthenticateClient(ctx context.Context, clientID, secret string) (Client, error) {
	found, err := r.row(ctx, clientID)
	if errors.Is(err, kit.ErrNotFound) {
		return Client{}, fmt.Errorf("%w: unknown client", ErrBadClient)
	}
	if err != nil {
		return Client{}, err
	}
	given := kit.HashToken(secret)
	ok := subtle.ConstantTimeCompare([]byte(given), []byte(found.SecretHash)) == 1
	if found.RetiringHash != nil && found.RetiringUntil != nil && clock().Before(*found.RetiringUntil) {
		ok = subtle.ConstantTimeCompare([]byte(given), []byte(*found.RetiringHash)) == 1 || ok
	}
	switch {
	case !ok:
		return Client{}, fmt.Errorf("%w: wrong secret", ErrBadClient)
	case !found.Enabled:
		return Client{}, fmt.Errorf("%w: disabled", ErrBadClient)
	}
	return found.client(), nil
}

// CopyProject copies every API client of project from into project to, on
// tx (the transaction of a project clone), with new client ids and their
// access policies mapped through policies (old id → new id). A copy gets no
// usable secret: its hash is of a random secret nobody ever sees, so the
// copy cannot sign in until an admin rotates its secret. Previous secrets
// and revocations are not copied. It returns how many clients it copied.
func CopyProject(ctx context.Context, tx *gorm.DB, from, to string, policies map[string]string, a audit.Actor) (int, error) {
	var rows []row
	if err := kit.EnterWall(ctx, tx, "enclave.project_id", from); err != nil {
		return 0, err
	}
	if err := tx.WithContext(ctx).Where("project_id = ?", from).Order("name").Find(&rows).Error; err != nil {
		return 0, err
	}
	if err := kit.EnterWall(ctx, tx, "enclave.project_id", to); err != nil {
		return 0, err
	}
	now := kit.Now()
	for _, r := range rows {
		_, hash, err := newSecret()
		if err != nil {
			return 0, err
		}
		c := row{ID: uuid.NewString(), ProjectID: to, Name: r.Name, Description: r.Description,
			RedirectURIs: r.RedirectURIs, TokenLifetime: r.TokenLifetime, Enabled: r.Enabled, SecretHash: hash,
			CreatedAt: now, UpdatedAt: now, UpdatedBy: a.UserRef()}
		if r.AccessPolicyID != nil {
			id, ok := policies[*r.AccessPolicyID]
			if !ok {
				return 0, fmt.Errorf("client %s: its access policy %s was not copied", r.ID, *r.AccessPolicyID)
			}
			c.AccessPolicyID = &id
		}
		if err := tx.WithContext(ctx).Create(&c).Error; err != nil {
			return 0, err
		}
	}
	if kit.DialectOf(tx) == kit.Postgres {
		// Out of the wall again, for the rest of the clone.
		if err := tx.WithContext(ctx).Exec("SELECT set_config('role', 'none', true)").Error; err != nil {
			return 0, err
		}
	}
	return len(rows), nil
}
