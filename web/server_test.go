package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"enclave/models/testdb"
	"enclave/web"
)

func TestRunServesAndShutsDownGracefully(t *testing.T) {
	db := testdb.SQLite(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := web.Config{Addr: addr, DataDir: t.TempDir(), SessionKey: []byte("0123456789abcdef0123456789abcdef")}
	srv := web.New(cfg, db.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()

	var resp *http.Response
	for i := 0; i < 100; i++ {
		if resp, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v after shutdown, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("server did not shut down")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	cfg := web.ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.Addr != "127.0.0.1:8080" || cfg.DataDir != "./data" || cfg.DatabaseURL != "" {
		t.Errorf("defaults: %+v", cfg)
	}
	env = map[string]string{"ENCLAVE_ADDR": ":9000", "ENCLAVE_DATA_DIR": "/srv/enclave", "DATABASE_URL": "postgres://x", "ENCLAVE_SECURE_COOKIES": "1"}
	cfg = web.ConfigFromEnv(func(k string) string { return env[k] })
	if cfg.Addr != ":9000" || cfg.DataDir != "/srv/enclave" || cfg.DatabaseURL != "postgres://x" || !cfg.SecureCookies {
		t.Errorf("from env: %+v", cfg)
	}
}
