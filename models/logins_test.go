package models_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/logins"
	"enclave/models/testdb"
)

// s256 is the S256 challenge of verifier.
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestLogins(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")
			u, err := sys.UserByEmail(ctx, "ada@example.org")
			if err != nil {
				t.Fatal(err)
			}
			m, err := ten.Membership(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			verifier := strings.Repeat("v", 50)

			// PKCE fields are required and checked, per field.
			_, err = sys.StartLogin(ctx, logins.NewLogin{UserID: u.ID, CodeChallenge: "short", CodeChallengeMethod: "S512"})
			if f := kit.FieldErrors(err); f["codeChallenge"] == "" || f["codeChallengeMethod"] == "" {
				t.Errorf("bad PKCE accepted: %v", err)
			}
			if _, err := sys.StartLogin(ctx, logins.NewLogin{UserID: u.ID}); kit.FieldErrors(err)["codeChallenge"] == "" {
				t.Errorf("no challenge accepted: %v", err)
			}

			start := func(method, challenge string) (logins.Login, string) {
				t.Helper()
				l, err := sys.StartLogin(ctx, logins.NewLogin{UserID: u.ID, CodeChallenge: challenge, CodeChallengeMethod: method, Scope: "openid"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sys.PendingLogin(ctx, l.ID); err != nil {
					t.Fatalf("pending: %v", err)
				}
				code, err := sys.IssueLoginCode(ctx, l.ID, ten.ProjectID(), m.ID)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := sys.IssueLoginCode(ctx, l.ID, ten.ProjectID(), m.ID); !errors.Is(err, logins.ErrNotPending) {
					t.Errorf("a second code for one login: %v", err)
				}
				return l, code
			}
			pkce := func(l logins.Login) error {
				if !l.VerifierMatches(verifier) {
					return errors.New("wrong verifier")
				}
				return nil
			}

			// S256: a wrong verifier leaves the code usable; the right one
			// grants the login, once; a replay revokes it.
			l, code := start(logins.MethodS256, s256(verifier))
			if hits := testdb.RowsContaining(t, db.DB, []byte(code)); len(hits) > 0 {
				t.Errorf("the code is stored in %v", hits)
			}
			if _, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", func(l logins.Login) error {
				if l.VerifierMatches(strings.Repeat("w", 50)) {
					t.Error("a wrong verifier matches")
				}
				return errors.New("wrong verifier")
			}); err == nil {
				t.Fatal("a refused check granted the code")
			}
			got, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", pkce)
			if err != nil || got.ID != l.ID || kit.Deref(got.MembershipID) != m.ID {
				t.Fatalf("redeem: %+v %v", got, err)
			}
			caller, err := sys.ResolveLogin(ctx, l.ID, ten.ProjectID())
			if err != nil || len(caller.Projects) != 1 || caller.User.ID != u.ID {
				t.Fatalf("resolve: %+v %v", caller, err)
			}
			if c, err := sys.ResolveLogin(ctx, l.ID, "2c1a4bde-0000-4000-8000-000000000000"); err != nil || len(c.Projects) != 0 {
				t.Errorf("resolved for another project: %+v %v", c, err)
			}
			if _, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", pkce); !errors.Is(err, logins.ErrCodeReused) {
				t.Errorf("replayed code: %v", err)
			}
			if _, err := sys.ResolveLogin(ctx, l.ID, ten.ProjectID()); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("a replayed code's login still resolves: %v", err)
			}

			// plain PKCE; refresh tokens rotate, and a spent one revokes
			// the family.
			l, code = start(logins.MethodPlain, verifier)
			if _, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", pkce); err != nil {
				t.Fatal(err)
			}
			first, err := sys.IssueRefreshToken(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, second, err := sys.RotateRefreshToken(ctx, first, "192.0.2.1")
			if err != nil || second == "" || second == first {
				t.Fatalf("rotate: %q %v", second, err)
			}
			if _, _, err := sys.RotateRefreshToken(ctx, first, "192.0.2.1"); !errors.Is(err, logins.ErrRefreshReused) {
				t.Errorf("spent token: %v", err)
			}
			if _, _, err := sys.RotateRefreshToken(ctx, second, "192.0.2.1"); !errors.Is(err, logins.ErrRevoked) {
				t.Errorf("the newer token after a replay: %v", err)
			}
			if _, _, err := sys.RotateRefreshToken(ctx, "nothing", ""); !errors.Is(err, logins.ErrBadRefresh) {
				t.Errorf("unknown token: %v", err)
			}

			// An expired code; a login whose membership is removed
			// resolves without a project.
			now := kit.Now()
			restore := logins.SetClockForTests(func() time.Time { return now })
			l, code = start(logins.MethodPlain, verifier)
			now = now.Add(logins.CodeLifetime + time.Second)
			if _, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", pkce); !errors.Is(err, logins.ErrBadCode) {
				t.Errorf("expired code: %v", err)
			}
			restore()
			other := testdb.NewUser(t, sys, "bob@example.org")
			om, err := ten.AddMember(ctx, audit.Actor{}, other.ID, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			ol, err := sys.StartLogin(ctx, logins.NewLogin{UserID: other.ID, CodeChallenge: verifier})
			if err != nil {
				t.Fatal(err)
			}
			code, err = sys.IssueLoginCode(ctx, ol.ID, ten.ProjectID(), om.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sys.RedeemLoginCode(ctx, code, "192.0.2.1", pkce); err != nil {
				t.Fatal(err)
			}
			if _, err := ten.RemoveMember(ctx, audit.Actor{}, om.ID); err != nil {
				t.Fatal(err)
			}
			if c, err := sys.ResolveLogin(ctx, ol.ID, ten.ProjectID()); err != nil || len(c.Projects) != 0 {
				t.Errorf("a removed member's login: %+v %v", c, err)
			}

			// Revocation is the user's own: another user cannot revoke it.
			if err := sys.RevokeLogin(ctx, u.ID, ol.ID, "", "test"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("revoked another user's login: %v", err)
			}
			if err := sys.RevokeLogin(ctx, other.ID, ol.ID, "", "test"); err != nil {
				t.Error(err)
			}
		})
	}
}
