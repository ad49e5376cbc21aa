package web

import (
	"errors"
	"fmt"

	"enclave/models/oauth"
)

// prepareOAuthKeys loads the access-token signing keys: ENCLAVE_OAUTH_KEY
// (with ENCLAVE_OAUTH_PREVIOUS_KEY) when set, else DATA_DIR/oauth-keys.json,
// created with a new key on first start.
func (c *Config) prepareOAuthKeys() error {
	if c.OAuthKeys != nil {
		return nil
	}
	if c.oauthKeyText == "" {
		if c.oauthPreviousKeyText != "" {
			return errors.New("ENCLAVE_OAUTH_PREVIOUS_KEY is set without ENCLAVE_OAUTH_KEY")
		}
		keys, err := oauth.Open(c.DataDir)
		if err != nil {
			return fmt.Errorf("OAuth signing keys in %s: %s", c.DataDir, errText(err))
		}
		c.OAuthKeys = keys
		return nil
	}
	keys, err := oauth.FromPEM(c.oauthKeyText, c.oauthPreviousKeyText)
	if err != nil {
		return errors.New("ENCLAVE_OAUTH_KEY or ENCLAVE_OAUTH_PREVIOUS_KEY: " + err.Error())
	}
	c.OAuthKeys = keys
	return nil
}
