package web

import (
	"enclave/models/secrets"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The secrets key file lives in the data directory unless
// ENCLAVE_SECRETS_KEY is set. A rotation stages the new key next to it
// before re-encrypting, and keeps the previous key until the next rotation.
const (
	SecretsKeyFile     = "secrets.key"
	secretsKeyStaged   = "secrets.key.new"
	secretsKeyPrevious = "secrets.key.old"
)

// SecretsKeyPath is where the key file is (or would be).
func (c *Config) SecretsKeyPath() string { return filepath.Join(c.DataDir, SecretsKeyFile) }

// prepareSecretsKey decodes ENCLAVE_SECRETS_KEY, or loads the key file,
// creating it with a random key on first start.
func (c *Config) prepareSecretsKey() error {
	switch {
	case c.secretsKeyText != "":
		key, err := secrets.ParseKey(c.secretsKeyText)
		if err != nil {
			return errors.New("ENCLAVE_SECRETS_KEY: " + err.Error())
		}
		c.SecretsKey = key
		return nil
	case len(c.SecretsKey) > 0:
		if len(c.SecretsKey) != secrets.KeySize {
			return fmt.Errorf("the secrets key must be %d bytes", secrets.KeySize)
		}
		return nil
	}
	path := c.SecretsKeyPath()
	b, err := os.ReadFile(path)
	if err == nil {
		key, perr := secrets.ParseKey(string(b))
		if perr != nil {
			return fmt.Errorf("%s is not a valid secrets key file: it must hold the base64 encoding of 32 bytes. "+
				"Do not delete it: the project secrets cannot be read without the key that sealed them", path)
		}
		c.SecretsKey = key
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %s", path, errText(err))
	}
	key, err := secrets.GenerateKey()
	if err != nil {
		return err
	}
	if err := writeKeyFile(path, key); err != nil {
		return err
	}
	c.SecretsKey = key
	return nil
}

// StageSecretsKey writes a new key to secrets.key.new, before a rotation
// re-encrypts anything, so the key is on disk whatever happens next.
func (c *Config) StageSecretsKey(key []byte) error {
	return writeKeyFile(filepath.Join(c.DataDir, secretsKeyStaged), key)
}

// DiscardStagedSecretsKey removes the staged key after a failed rotation.
func (c *Config) DiscardStagedSecretsKey() error {
	err := os.Remove(filepath.Join(c.DataDir, secretsKeyStaged))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// CommitSecretsKey makes the staged key current after a rotation has
// committed: secrets.key becomes secrets.key.old (replacing the one kept by
// the previous rotation) and secrets.key.new becomes secrets.key.
func (c *Config) CommitSecretsKey() error {
	cur := c.SecretsKeyPath()
	staged := filepath.Join(c.DataDir, secretsKeyStaged)
	if err := os.Rename(cur, filepath.Join(c.DataDir, secretsKeyPrevious)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("keep the old key: %s (the new key is in %s: rename it to %s)", errText(err), staged, cur)
	}
	if err := os.Rename(staged, cur); err != nil {
		return fmt.Errorf("install the new key: %s (the new key is in %s: rename it to %s)", errText(err), staged, cur)
	}
	return nil
}

// writeKeyFile writes a key in its text form, readable by the owner only
// (0600 whatever the umask), and flushes it to disk.
func writeKeyFile(path string, key []byte) error {
	if err := writePrivateFile(path, []byte(secrets.EncodeKey(key)+"\n")); err != nil {
		return fmt.Errorf("%s: %s", path, errText(err))
	}
	return nil
}
