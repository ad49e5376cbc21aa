// Package oauth signs and verifies Enclave's access tokens: JWTs signed with
// RS256 (what SMART and OAuth clients universally accept) by go-jose, with
// a key set that rotates. The newest key signs; keys it replaced keep
// verifying until every token they signed has expired.
package oauth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"enclave/models/clients"

	"github.com/go-jose/go-jose/v4"
)

// KeyFile is the key set's file in the data directory.
const KeyFile = "oauth-keys.json"

// KeepRetired is how long a replaced key still verifies: the longest
// lifetime a token can have.
const KeepRetired = clients.MaxTokenLifetime

// keyBits is the size of a generated RSA key.
const keyBits = 2048

// checkEvery is how often a file-backed key set looks whether another
// process (`enclave oauth rotate-key`) changed its file.
const checkEvery = 10 * time.Second

// storedKey is one key of the file: a private JWK, and when it was made and
// replaced (zero for the current key).
type storedKey struct {
	Key     jose.JSONWebKey `json:"key"`
	Created time.Time       `json:"created"`
	Retired time.Time       `json:"retired,omitzero"`
}

type keyFile struct {
	Keys []storedKey `json:"keys"`
}

// keyState is one loaded key set: the signer of the current key, and every
// key that verifies, by kid.
type keyState struct {
	current string
	signer  jose.Signer
	// idSigner signs ID tokens (typ JWT) with the same key.
	idSigner jose.Signer
	verify   map[string]storedKey
	modTime  time.Time
}

// Keys is the server's signing key set. It is safe for concurrent use.
type Keys struct {
	// path is the key file; empty when the keys came from the environment.
	path string

	mu    sync.RWMutex
	state keyState
	// checked is when the file was last looked at (Unix nanoseconds).
	checked atomic.Int64
}

// Open loads the key set in dir, creating it with one new key when there is
// none yet (mode 0600).
func Open(dir string) (*Keys, error) {
	path := filepath.Join(dir, KeyFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		k, err := newStoredKey(time.Now())
		if err != nil {
			return nil, err
		}
		if err := writeKeyFile(path, keyFile{Keys: []storedKey{k}}); err != nil {
			return nil, err
		}
	}
	k := &Keys{path: path}
	if err := k.Refresh(); err != nil {
		return nil, err
	}
	return k, nil
}

// FromPEM makes a key set of PEM-encoded RSA private keys (PKCS #1 or
// #8): current signs, previous (optional) only verifies.
func FromPEM(current, previous string) (*Keys, error) {
	f := keyFile{}
	for i, text := range []string{current, previous} {
		if text == "" {
			continue
		}
		key, err := parsePEM(text)
		if err != nil {
			return nil, err
		}
		sk, err := storedKeyOf(key, time.Time{})
		if err != nil {
			return nil, err
		}
		if i == 1 {
			sk.Retired = time.Now() // kept as long as it is configured
		}
		f.Keys = append(f.Keys, sk)
	}
	st, err := f.state(time.Now(), false)
	if err != nil {
		return nil, err
	}
	k := &Keys{}
	k.state = st
	return k, nil
}

// NewKeyPEM generates an RSA key in PEM (PKCS #8), for ENCLAVE_OAUTH_KEY.
func NewKeyPEM() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

func parsePEM(text string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("not a PEM-encoded key")
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not an RSA private key in PKCS #1 or PKCS #8")
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok || rk.N.BitLen() < keyBits {
		return nil, fmt.Errorf("not an RSA private key of at least %d bits", keyBits)
	}
	return rk, nil
}

// Rotate adds a new current key to the key set in dir and keeps the one it
// replaces for verification; keys replaced longer than KeepRetired ago are
// dropped. It returns the new key's id. A running server picks the change
// up within checkEvery.
func Rotate(dir string, now time.Time) (string, error) {
	path := filepath.Join(dir, KeyFile)
	f, err := readKeyFile(path)
	if err != nil {
		return "", err
	}
	kept := f.Keys[:0]
	for _, k := range f.Keys {
		if k.Retired.IsZero() {
			k.Retired = now
		}
		if now.Sub(k.Retired) < KeepRetired {
			kept = append(kept, k)
		}
	}
	fresh, err := newStoredKey(now)
	if err != nil {
		return "", err
	}
	f.Keys = append(kept, fresh)
	if err := writeKeyFile(path, f); err != nil {
		return "", err
	}
	return fresh.Key.KeyID, nil
}

func newStoredKey(now time.Time) (storedKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return storedKey{}, err
	}
	return storedKeyOf(key, now)
}

// storedKeyOf wraps key as a JWK whose kid is its RFC 7638 thumbprint.
func storedKeyOf(key *rsa.PrivateKey, now time.Time) (storedKey, error) {
	jwk := jose.JSONWebKey{Key: key, Algorithm: string(jose.RS256), Use: "sig"}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return storedKey{}, err
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(sum)
	return storedKey{Key: jwk, Created: now}, nil
}

func readKeyFile(path string) (keyFile, error) {
	var f keyFile
	b, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("%s is not a valid key file: %v", path, err)
	}
	return f, nil
}

// writeKeyFile replaces the file at once (a new file renamed over it),
// readable by the owner only, so a reader never sees half a key set.
func writeKeyFile(path string, f keyFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".oauth-keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// state checks the keys and builds the signer of the current one: the newest
// key not retired. Retired keys past KeepRetired are left out (prune) or
// kept (keys from the environment stay while they are configured).
func (f keyFile) state(now time.Time, prune bool) (keyState, error) {
	st := keyState{verify: map[string]storedKey{}}
	var current *storedKey
	for i, k := range f.Keys {
		if _, ok := k.Key.Key.(*rsa.PrivateKey); !ok || k.Key.KeyID == "" {
			return st, errors.New("the OAuth key set holds a key that is not an RSA private key with an id")
		}
		if !k.Retired.IsZero() {
			if prune && now.Sub(k.Retired) >= KeepRetired {
				continue
			}
		} else if current == nil || k.Created.After(current.Created) {
			current = &f.Keys[i]
		}
		st.verify[k.Key.KeyID] = k
	}
	if current == nil {
		return st, errors.New("the OAuth key set has no current key")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: current.Key},
		(&jose.SignerOptions{}).WithType(tokenType))
	if err != nil {
		return st, err
	}
	idSigner, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: current.Key},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return st, err
	}
	st.current, st.signer, st.idSigner = current.Key.KeyID, signer, idSigner
	return st, nil
}

// Refresh reloads the key file when it changed since it was loaded.
func (k *Keys) Refresh() error {
	if k.path == "" {
		return nil
	}
	k.checked.Store(time.Now().UnixNano())
	info, err := os.Stat(k.path)
	if err != nil {
		return err
	}
	k.mu.RLock()
	same := info.ModTime().Equal(k.state.modTime) && k.state.signer != nil
	k.mu.RUnlock()
	if same {
		return nil
	}
	f, err := readKeyFile(k.path)
	if err != nil {
		return err
	}
	st, err := f.state(time.Now(), true)
	if err != nil {
		return fmt.Errorf("%s: %v", k.path, err)
	}
	st.modTime = info.ModTime()
	k.mu.Lock()
	k.state = st
	k.mu.Unlock()
	return nil
}

// refreshNow reloads the file if it was not looked at for checkEvery.
func (k *Keys) refreshNow() {
	if k.path != "" && time.Since(time.Unix(0, k.checked.Load())) >= checkEvery {
		_ = k.Refresh() // a broken file keeps the keys already loaded
	}
}

func (k *Keys) snapshot() keyState {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.state
}

// CurrentKeyID is the id of the key that signs.
func (k *Keys) CurrentKeyID() string { return k.snapshot().current }

// JWKS is the public half of every key that verifies, for
// /.well-known/jwks.json.
func (k *Keys) JWKS() jose.JSONWebKeySet {
	k.refreshNow()
	st := k.snapshot()
	out := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, sk := range st.verify {
		out.Keys = append(out.Keys, sk.Key.Public())
	}
	// The current key first, then by id: a stable answer.
	slices.SortFunc(out.Keys, func(a, b jose.JSONWebKey) int {
		switch {
		case a.KeyID == st.current:
			return -1
		case b.KeyID == st.current:
			return 1
		}
		return strings.Compare(a.KeyID, b.KeyID)
	})
	return out
}
