package main

import (
	"bytes"
	"strings"
	"testing"

	"enclave/models/oauth"
)

func TestOAuthRotateKey(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ENCLAVE_DATA_DIR", dir)
	t.Setenv("ENCLAVE_SECRETS_KEY", "")
	t.Setenv("ENCLAVE_OAUTH_KEY", "")
	keys, err := oauth.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old := keys.CurrentKeyID()
	var out bytes.Buffer
	if err := runOAuth([]string{"rotate-key"}, &out); err != nil {
		t.Fatal(err)
	}
	if err := keys.Refresh(); err != nil {
		t.Fatal(err)
	}
	if keys.CurrentKeyID() == old || !strings.Contains(out.String(), keys.CurrentKeyID()) {
		t.Errorf("after rotation the key is %s; said %q", keys.CurrentKeyID(), out.String())
	}
	if n := len(keys.JWKS().Keys); n != 2 {
		t.Errorf("%d keys verify, want the new and the old", n)
	}
	t.Setenv("ENCLAVE_OAUTH_KEY", "configured")
	if err := runOAuth([]string{"rotate-key"}, &out); err == nil || !strings.Contains(err.Error(), "ENCLAVE_OAUTH_KEY") {
		t.Errorf("rotating a configured key: %v", err)
	}
	if err := runOAuth([]string{"spin"}, &out); err == nil {
		t.Error("an unknown command ran")
	}
}
