package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length in bytes of a secrets key (AES-256).
const KeySize = 32

// Box seals and opens project secret values with one AES-256-GCM key.
// Every value gets a fresh random nonce, and the project id and secret id are
// bound in as additional data, so a ciphertext copied to another row does not
// open. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	id   string
}

// NewBox makes a box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secrets key must be %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, id: KeyID(key)}, nil
}

// KeyID names the box's key; it is stored next to every ciphertext.
func (b *Box) KeyID() string { return b.id }

// KeyID is the first 8 hex digits of the key's SHA-256: enough to tell
// keys apart, useless for finding the key.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, nil
}

// EncodeKey is the text form of a key, as the key file and
// ENCLAVE_SECRETS_KEY hold it: standard base64.
func EncodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// ErrBadKey is returned by ParseKey for anything but the base64
// encoding of 32 bytes.
var ErrBadKey = errors.New("a secrets key must be the base64 encoding of 32 bytes (generate one with: openssl rand -base64 32)")

// ParseKey decodes the text form of a key.
func ParseKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != KeySize {
		return nil, ErrBadKey
	}
	return key, nil
}

// KeyError means a value was sealed with another key than the one
// configured, so it cannot be opened.
type KeyError struct {
	Name       string // the secret's name
	StoredKey  string // key id recorded with the value
	CurrentKey string // key id of the configured key
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("secret %q is encrypted with key %s, but the configured secrets key is %s: "+
		"set ENCLAVE_SECRETS_KEY or DATA_DIR/secrets.key to the key that wrote it", e.Name, e.StoredKey, e.CurrentKey)
}

// ErrTampered means a value did not decrypt although its key id
// matched: the row was altered, or copied from another project or secret.
var ErrTampered = errors.New("secret value does not decrypt: the stored row was altered or moved")

func secretAAD(projectID, secretID string) []byte {
	return []byte("enclave/secret/v1\x00" + projectID + "\x00" + secretID)
}

// seal encrypts value for one secret of one project: nonce || ciphertext.
func (b *Box) seal(projectID, secretID string, value []byte) ([]byte, error) {
	return b.Seal(secretAAD(projectID, secretID), value)
}

// Seal encrypts value bound to the additional data aad, which says
// what the value is and where it belongs: nonce || ciphertext.
func (b *Box) Seal(aad, value []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return b.aead.Seal(nonce, nonce, value, aad), nil
}

// Open decrypts what Seal sealed with the same aad; false when it
// does not decrypt.
func (b *Box) Open(aad, sealed []byte) ([]byte, bool) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, false
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], aad)
	return plain, err == nil
}

// open decrypts a stored row, refusing a row sealed with another key.
func (b *Box) open(r secretRow) ([]byte, error) {
	if r.KeyID != b.id {
		return nil, &KeyError{Name: r.Name, StoredKey: r.KeyID, CurrentKey: b.id}
	}
	plain, ok := b.Open(secretAAD(r.ProjectID, r.ID), r.Ciphertext)
	if !ok {
		return nil, fmt.Errorf("secret %q: %w", r.Name, ErrTampered)
	}
	return plain, nil
}
