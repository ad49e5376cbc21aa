package oauth_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"enclave/models/oauth"

	"github.com/go-jose/go-jose/v4/jwt"
)

func claims(now time.Time, life time.Duration) oauth.Claims {
	return oauth.Claims{Claims: jwt.Claims{Subject: "c1", IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(life)), ID: "j1"}, ClientID: "c1", ProjectID: "p1"}
}

func TestKeysSignVerifyRotate(t *testing.T) {
	dir := t.TempDir()
	keys, err := oauth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, oauth.KeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	now := time.Now()
	tok, err := keys.Issue(claims(now, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.Verify(tok, now)
	if err != nil || got.ClientID != "c1" || got.ProjectID != "p1" {
		t.Fatalf("verify: %+v %v", got, err)
	}
	if _, err := keys.Verify(tok, now.Add(time.Hour+time.Minute)); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Errorf("expired: %v", err)
	}
	parts := strings.Split(tok, ".")
	forged, _ := oauth.FromPEM(mustPEM(t), "")
	other, _ := forged.Issue(claims(now, time.Hour))
	for name, bad := range map[string]string{
		"tampered payload": parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2],
		"no signature":     parts[0] + "." + parts[1] + ".",
		"other key":        other,
		"garbage":          "abc",
	} {
		if _, err := keys.Verify(bad, now); !errors.Is(err, oauth.ErrInvalidToken) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A second opening reads the same key.
	again, err := oauth.Open(dir)
	if err != nil || again.CurrentKeyID() != keys.CurrentKeyID() {
		t.Fatalf("reopen: %v", err)
	}
	old := keys.CurrentKeyID()
	kid, err := oauth.Rotate(dir, now)
	if err != nil || kid == old {
		t.Fatalf("rotate: %s %v", kid, err)
	}
	if err := keys.Refresh(); err != nil || keys.CurrentKeyID() != kid {
		t.Fatalf("after refresh the current key is %s: %v", keys.CurrentKeyID(), err)
	}
	if _, err := keys.Verify(tok, now); err != nil {
		t.Errorf("a token of the previous key: %v", err)
	}
	if n := len(keys.JWKS().Keys); n != 2 || keys.JWKS().Keys[0].KeyID != kid || !keys.JWKS().Keys[1].IsPublic() {
		t.Errorf("JWKS %+v", keys.JWKS())
	}
	// Past KeepRetired the previous key goes at the next rotation.
	if _, err := oauth.Rotate(dir, now.Add(oauth.KeepRetired+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := keys.Refresh(); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Verify(tok, now); !errors.Is(err, oauth.ErrInvalidToken) {
		t.Errorf("a token of a dropped key: %v", err)
	}
}

func mustPEM(t *testing.T) string {
	t.Helper()
	p, err := oauth.NewKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeysFromPEM(t *testing.T) {
	cur, prev := mustPEM(t), mustPEM(t)
	old, err := oauth.FromPEM(prev, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := old.Issue(claims(time.Now(), time.Hour))
	keys, err := oauth.FromPEM(cur, prev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Verify(tok, time.Now()); err != nil {
		t.Errorf("the previous key's token: %v", err)
	}
	if _, err := oauth.FromPEM("not a key", ""); err == nil {
		t.Error("garbage accepted")
	}
}
