// Package logins holds the sign-ins of programs on behalf of a user: the
// OAuth 2.0 authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636) and
// the refresh tokens it leads to. A login is made when the user's password
// is checked, gets a membership (the project the program will act in) and a
// one-time code, and is granted when the code is redeemed at the token
// endpoint. Its access tokens carry its id, so revoking the login (sign-out,
// a replayed code or refresh token) voids every token it issued.
package logins

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"enclave/models/audit"
	"enclave/models/kit"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

const (
	// CodeLifetime is how long an authorization code may wait to be
	// redeemed: long enough for a program to call the token endpoint right
	// after the redirect or the /auth/login answer, short enough that a
	// leaked code is of little use (RFC 6749 §4.1.2 advises at most ten
	// minutes).
	CodeLifetime = 60 * time.Second
	// PendingLifetime is how long a login may wait for its membership to be
	// chosen (/auth/profile, or the project choice of /oauth2/authorize).
	PendingLifetime = 10 * time.Minute
	// RefreshLifetime is how long a refresh token works if unused; each use
	// gives a new one, so an active program stays signed in.
	RefreshLifetime = 14 * 24 * time.Hour
	// MaxField bounds the free-text fields a program sends (scope, nonce,
	// redirect URI, client id).
	MaxField = 2000
)

// PKCE methods (RFC 7636 §4.2).
const (
	MethodS256  = "S256"
	MethodPlain = "plain"
)

// Errors of the token endpoint's grants.
var (
	// ErrBadCode: no such code, or it expired.
	ErrBadCode = errors.New("invalid or expired authorization code")
	// ErrCodeReused: the code was redeemed before; the login is now revoked.
	ErrCodeReused = errors.New("authorization code already used")
	// ErrRevoked: the login was revoked (signed out, or a replay).
	ErrRevoked = errors.New("login revoked")
	// ErrBadRefresh: no such refresh token, or it expired.
	ErrBadRefresh = errors.New("invalid or expired refresh token")
	// ErrRefreshReused: the refresh token was spent before; the login is
	// now revoked.
	ErrRefreshReused = errors.New("refresh token already used")
	// ErrNotPending: the login is not waiting for a membership (unknown,
	// too old, already given one, granted or revoked).
	ErrNotPending = errors.New("login not pending")
)

// Login is one sign-in of a program on behalf of a user.
type Login struct {
	ID     string
	UserID string
	// ProjectID and MembershipID are the membership the program acts as;
	// nil while the login is pending.
	ProjectID    *string
	MembershipID *string
	// ClientID is the API client the login is for; empty for the server's
	// own sign-in (/auth/login without a client).
	ClientID string
	// RedirectURI is where /oauth2/authorize sent the code; the token
	// request must repeat it. Empty for /auth/login.
	RedirectURI         string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	CodeHash            *string
	CodeExpiresAt       *time.Time
	Granted             bool
	Revoked             bool
	IP                  string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (Login) TableName() string { return "logins" }

// HasScope reports whether the login's scope lists s.
func (l Login) HasScope(s string) bool {
	for _, f := range strings.Fields(l.Scope) {
		if f == s {
			return true
		}
	}
	return false
}

// refreshToken is one refresh token of a login, stored as its SHA-256.
type refreshToken struct {
	ID        string
	LoginID   string
	TokenHash string
	ExpiresAt time.Time
	SpentAt   *time.Time
	CreatedAt time.Time
}

func (refreshToken) TableName() string { return "refresh_tokens" }

// NewLogin is what starts a login: the user whose password was checked and
// what the program sent.
type NewLogin struct {
	UserID string
	// ProjectID restricts the login to one project's membership; empty
	// lets the user choose any of theirs.
	ProjectID           string
	ClientID            string
	RedirectURI         string
	Scope               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	IP                  string
}

// Validate checks the PKCE fields and the lengths, per field.
func (n *NewLogin) Validate() error {
	v := &kit.ValidationError{Fields: map[string]string{}}
	if n.CodeChallengeMethod == "" && n.CodeChallenge != "" {
		n.CodeChallengeMethod = MethodPlain // RFC 7636 §4.3: plain is the default
	}
	switch {
	case n.CodeChallenge == "":
		v.Fields["codeChallenge"] = "Missing code challenge: send codeChallenge and codeChallengeMethod (PKCE, RFC 7636)."
	case !pkceString(n.CodeChallenge):
		v.Fields["codeChallenge"] = fmt.Sprintf("Invalid code challenge: %d to %d characters of A-Z, a-z, 0-9, -, ., _ and ~ (RFC 7636).", minPKCE, maxPKCE)
	}
	if n.CodeChallengeMethod != MethodS256 && n.CodeChallengeMethod != MethodPlain {
		v.Fields["codeChallengeMethod"] = "Invalid code challenge method: S256 or plain."
	}
	for name, s := range map[string]string{"clientId": n.ClientID, "redirectUri": n.RedirectURI, "scope": n.Scope, "nonce": n.Nonce} {
		if len(s) > MaxField {
			v.Fields[name] = fmt.Sprintf("Too long: at most %d characters.", MaxField)
		}
	}
	if len(v.Fields) > 0 {
		return v
	}
	return nil
}

// pkceChars are the characters of a code verifier or plain challenge.
const pkceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

// The length of a verifier or challenge: RFC 7636 says 43 to 128, but
// Medplum's SDK makes 224-character verifiers (hex of 112 random bytes),
// which its plain method sends as the challenge; the longer bound keeps it
// working.
const (
	minPKCE = 43
	maxPKCE = 512
)

func pkceString(s string) bool {
	return len(s) >= minPKCE && len(s) <= maxPKCE && strings.Trim(s, pkceChars) == ""
}

// VerifierMatches checks a code verifier against the login's challenge,
// in constant time.
func (l Login) VerifierMatches(verifier string) bool {
	if !pkceString(verifier) {
		return false
	}
	want := verifier
	if l.CodeChallengeMethod == MethodS256 {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(l.CodeChallenge)) == 1
}

// Ledger keeps logins and their refresh tokens. Logins are the user's, not a
// project's: it is part of the server-wide System.
type Ledger struct{ db *gorm.DB }

// New returns the store on db.
func New(db *gorm.DB) Ledger { return Ledger{db: db} }

// clock is the time the store works with; tests move it.
var clock = kit.Now

// SetClockForTests makes the store read the time from c until restore.
func SetClockForTests(c func() time.Time) (restore func()) {
	old := clock
	clock = c
	return func() { clock = old }
}

// StartLogin records a pending login.
func (s Ledger) StartLogin(ctx context.Context, n NewLogin) (Login, error) {
	if err := n.Validate(); err != nil {
		return Login{}, err
	}
	now := clock()
	l := Login{ID: uuid.NewString(), UserID: n.UserID, ClientID: n.ClientID, RedirectURI: n.RedirectURI, Scope: n.Scope,
		Nonce: n.Nonce, CodeChallenge: n.CodeChallenge, CodeChallengeMethod: n.CodeChallengeMethod, IP: n.IP,
		CreatedAt: now, UpdatedAt: now}
	if n.ProjectID != "" {
		p := n.ProjectID
		l.ProjectID = &p
	}
	return l, s.db.WithContext(ctx).Create(&l).Error
}

// PendingLogin reads a login that waits for its membership: ErrNotPending
// when there is none such with this id.
func (s Ledger) PendingLogin(ctx context.Context, id string) (Login, error) {
	var l Login
	if !kit.IsUUID(id) {
		return l, ErrNotPending
	}
	err := kit.NotFound(s.db.WithContext(ctx).Where("id = ?", id).Take(&l).Error)
	switch {
	case errors.Is(err, kit.ErrNotFound):
		return l, ErrNotPending
	case err != nil:
		return l, err
	case l.MembershipID != nil || l.Granted || l.Revoked || !clock().Before(l.CreatedAt.Add(PendingLifetime)):
		return l, ErrNotPending
	}
	return l, nil
}

// IssueLoginCode gives a pending login its membership and a fresh one-time
// code, valid for CodeLifetime, and returns the code. The caller checks
// that the membership is the login's user's; a login restricted to another
// project is ErrNotPending.
func (s Ledger) IssueLoginCode(ctx context.Context, loginID, projectID, membershipID string) (string, error) {
	code, err := kit.NewToken()
	if err != nil {
		return "", err
	}
	now := clock()
	res := s.db.WithContext(ctx).Model(&Login{}).
		Where("id = ? AND membership_id IS NULL AND granted = ? AND revoked = ? AND created_at > ?",
			loginID, false, false, now.Add(-PendingLifetime)).
		Where("project_id IS NULL OR project_id = ?", projectID).
		Updates(map[string]any{"project_id": projectID, "membership_id": membershipID, "code_hash": kit.HashToken(code),
			"code_expires_at": now.Add(CodeLifetime), "updated_at": now})
	if res.Error != nil {
		return "", res.Error
	}
	if res.RowsAffected == 0 {
		return "", ErrNotPending
	}
	return code, nil
}

// RedeemLoginCode grants the login of a code, once. check looks at the
// login before it is granted (the client, the redirect URI, the PKCE
// verifier); its error refuses the code without using it up. A code
// redeemed before revokes its login (RFC 6749 §4.1.2): ErrCodeReused.
func (s Ledger) RedeemLoginCode(ctx context.Context, code, ip string, check func(Login) error) (Login, error) {
	var l Login
	reused := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := kit.NotFound(tx.Where("code_hash = ?", kit.HashToken(code)).Take(&l).Error)
		switch {
		case errors.Is(err, kit.ErrNotFound):
			return ErrBadCode
		case err != nil:
			return err
		case l.Revoked:
			return ErrRevoked
		case l.Granted:
			reused = true
			return revoke(ctx, tx, l.ID, ip, "authorization code used twice")
		case l.CodeExpiresAt == nil || !clock().Before(*l.CodeExpiresAt):
			return ErrBadCode
		}
		if err := check(l); err != nil {
			return err
		}
		res := tx.Model(&Login{}).Where("id = ? AND granted = ?", l.ID, false).
			Updates(map[string]any{"granted": true, "updated_at": clock()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 { // redeemed at the same moment elsewhere
			reused = true
			return revoke(ctx, tx, l.ID, ip, "authorization code used twice")
		}
		return record(ctx, tx, l, audit.ActionLoginGranted, ip, map[string]any{})
	})
	if reused && err == nil {
		kit.BumpAuthEpoch()
		return Login{}, ErrCodeReused
	}
	return l, err
}

// IssueRefreshToken makes a new refresh token of the login.
func (s Ledger) IssueRefreshToken(ctx context.Context, loginID string) (string, error) {
	return issueRefresh(s.db.WithContext(ctx), loginID)
}

func issueRefresh(tx *gorm.DB, loginID string) (string, error) {
	token, err := kit.NewToken()
	if err != nil {
		return "", err
	}
	now := clock()
	r := refreshToken{ID: uuid.NewString(), LoginID: loginID, TokenHash: kit.HashToken(token),
		ExpiresAt: now.Add(RefreshLifetime), CreatedAt: now}
	return token, tx.Create(&r).Error
}

// RotateRefreshToken spends a refresh token and returns its login with the
// next token. A token spent before revokes the whole login
// (ErrRefreshReused): one of the two parties that hold it is not the
// program it was issued to.
func (s Ledger) RotateRefreshToken(ctx context.Context, token, ip string) (Login, string, error) {
	var l Login
	next := ""
	reused := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r refreshToken
		err := kit.NotFound(tx.Where("token_hash = ?", kit.HashToken(token)).Take(&r).Error)
		switch {
		case errors.Is(err, kit.ErrNotFound):
			return ErrBadRefresh
		case err != nil:
			return err
		}
		if err := tx.Where("id = ?", r.LoginID).Take(&l).Error; err != nil {
			return err
		}
		now := clock()
		switch {
		case l.Revoked:
			return ErrRevoked
		case r.SpentAt != nil:
			reused = true
			return revoke(ctx, tx, l.ID, ip, "refresh token used twice")
		case !now.Before(r.ExpiresAt) || l.MembershipID == nil:
			return ErrBadRefresh
		}
		res := tx.Model(&refreshToken{}).Where("id = ? AND spent_at IS NULL", r.ID).Update("spent_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return revoke(ctx, tx, l.ID, ip, "refresh token used twice")
		}
		next, err = issueRefresh(tx, l.ID)
		return err
	})
	if reused && err == nil {
		kit.BumpAuthEpoch()
		return Login{}, "", ErrRefreshReused
	}
	return l, next, err
}

// LoginOfRefreshToken finds the login of a refresh token, spent or not;
// kit.ErrNotFound when the token is unknown.
func (s Ledger) LoginOfRefreshToken(ctx context.Context, token string) (Login, error) {
	var r refreshToken
	if err := kit.NotFound(s.db.WithContext(ctx).Where("token_hash = ?", kit.HashToken(token)).Take(&r).Error); err != nil {
		return Login{}, err
	}
	var l Login
	return l, kit.NotFound(s.db.WithContext(ctx).Where("id = ?", r.LoginID).Take(&l).Error)
}

// RevokeLogin revokes a login of userID (any user's when userID is
// empty), for reason, at the request of ip: its access tokens stop working
// (this process at once, see kit.AuthEpoch) and its refresh tokens are
// spent. Revoking twice is no error; an unknown login is kit.ErrNotFound.
func (s Ledger) RevokeLogin(ctx context.Context, userID, loginID, ip, reason string) error {
	if !kit.IsUUID(loginID) {
		return kit.ErrNotFound
	}
	defer kit.BumpAuthEpoch()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&Login{}).Where("id = ?", loginID)
		if userID != "" {
			q = q.Where("user_id = ?", userID)
		}
		var n int64
		if err := q.Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return kit.ErrNotFound
		}
		return revoke(ctx, tx, loginID, ip, reason)
	})
}

// revoke marks a login revoked and spends its refresh tokens, inside tx,
// and records why in its project's audit log (the first time). The caller
// moves AuthEpoch once tx is committed.
func revoke(ctx context.Context, tx *gorm.DB, loginID, ip, reason string) error {
	var l Login
	if err := tx.Where("id = ?", loginID).Take(&l).Error; err != nil {
		return err
	}
	if l.Revoked {
		return nil
	}
	now := clock()
	if err := tx.Model(&Login{}).Where("id = ?", loginID).
		Updates(map[string]any{"revoked": true, "updated_at": now}).Error; err != nil {
		return err
	}
	if err := tx.Model(&refreshToken{}).Where("login_id = ? AND spent_at IS NULL", loginID).Update("spent_at", now).Error; err != nil {
		return err
	}
	if !l.Granted {
		return nil // no token was ever issued
	}
	return record(ctx, tx, l, audit.ActionLoginRevoked, ip, map[string]any{"reason": reason})
}

// record writes an event about login l in its project's audit log, with
// its user as the actor.
func record(ctx context.Context, tx *gorm.DB, l Login, action, ip string, details map[string]any) error {
	if l.ProjectID == nil {
		return nil
	}
	var email string
	if err := tx.WithContext(ctx).Table("users").Select("email").Where("id = ?", l.UserID).Scan(&email).Error; err != nil {
		return err
	}
	details["login"] = l.ID
	if l.ClientID != "" {
		details["client"] = l.ClientID
	}
	return audit.Record(ctx, kit.Bind(tx, *l.ProjectID), audit.Actor{UserID: l.UserID, Email: email, IP: ip}, action, email, details)
}
