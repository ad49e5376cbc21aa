package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadRequestTimeoutStopsStartUp: a request timeout that is not a
// duration in range stops start-up with one line naming the setting, before
// anything is opened.
func TestBadRequestTimeoutStopsStartUp(t *testing.T) {
	for _, v := range []string{"30", "soon", "0s", "500ms", "2h"} {
		t.Run(v, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			t.Setenv("ENCLAVE_DATA_DIR", dir)
			t.Setenv("DATABASE_URL", "")
			t.Setenv("ENCLAVE_SESSION_KEY", "")
			t.Setenv("ENCLAVE_REQUEST_TIMEOUT", v)
			err := run([]string{"migrate"})
			if err == nil || !strings.Contains(err.Error(), "ENCLAVE_REQUEST_TIMEOUT") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("ENCLAVE_REQUEST_TIMEOUT=%s: error %v, want one line naming the setting", v, err)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("the data directory was created before the settings were checked")
			}
		})
	}
	t.Setenv("ENCLAVE_DATA_DIR", t.TempDir())
	t.Setenv("ENCLAVE_REQUEST_TIMEOUT", "")
	if err := run([]string{"migrate", "-request-timeout", "soon"}); err == nil || !strings.Contains(err.Error(), "ENCLAVE_REQUEST_TIMEOUT") {
		t.Errorf("-request-timeout soon: error %v", err)
	}
	if err := run([]string{"migrate", "-request-timeout", "45s"}); err != nil {
		t.Errorf("-request-timeout 45s: %v", err)
	}
}
