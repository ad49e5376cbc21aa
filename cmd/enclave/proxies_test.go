package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadTrustedProxiesStopStartUp: an ENCLAVE_TRUSTED_PROXIES that is not a
// list of address ranges stops start-up with one line naming the setting,
// before anything is opened; a good one starts.
func TestBadTrustedProxiesStopStartUp(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("ENCLAVE_SESSION_KEY", "")
	t.Setenv("ENCLAVE_REQUEST_TIMEOUT", "")
	for _, v := range []string{"10.0.0.0/33", "proxy.internal", "10.0.0.0/8;127.0.0.1"} {
		t.Run(v, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			t.Setenv("ENCLAVE_DATA_DIR", dir)
			t.Setenv("ENCLAVE_TRUSTED_PROXIES", v)
			err := run([]string{"migrate"})
			if err == nil || !strings.Contains(err.Error(), "ENCLAVE_TRUSTED_PROXIES") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ENCLAVE_TRUSTED_PROXIES=%s: error %v, want one line naming the setting", v, err)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("the data directory was created before the settings were checked")
			}
		})
	}
	t.Setenv("ENCLAVE_DATA_DIR", t.TempDir())
	t.Setenv("ENCLAVE_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
	if err := run([]string{"migrate"}); err != nil {
		t.Errorf("ENCLAVE_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.1: %v", err)
	}
}
