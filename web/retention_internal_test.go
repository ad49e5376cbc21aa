package web

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/projects"
	"enclave/models/testdb"
)

func TestParseDeletedRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"": models.DefaultDeletedRetention, "168h": 7 * 24 * time.Hour,
		" 720h ": 30 * 24 * time.Hour, "1m": time.Minute, "87600h": 87600 * time.Hour} {
		got, err := ParseDeletedRetention(in)
		if err != nil || got != want {
			t.Errorf("ParseDeletedRetention(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"7", "7d", "abc", "0s", "-1h", "59s", "87601h"} {
		d, err := ParseDeletedRetention(in)
		if err == nil {
			t.Errorf("ParseDeletedRetention(%q) = %s, want an error", in, d)
		} else if msg := err.Error(); !strings.Contains(msg, "ENCLAVE_DELETED_RETENTION must be a duration from 1m") ||
			!strings.Contains(msg, strconv.Quote(in)) {
			t.Errorf("ParseDeletedRetention(%q)'s error: %s", in, msg)
		}
	}
	if got := (Config{}).deletedRetention(); got != models.DefaultDeletedRetention {
		t.Errorf("an unset retention is %s", got)
	}
}

// TestRunRetention: the server's retention loop, as Run starts it,
// expunges a project deleted longer ago than the configured retention and
// leaves one deleted more recently.
func TestRunRetention(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			cfg := Config{DataDir: t.TempDir(), SessionKey: []byte("0123456789abcdef0123456789abcdef"), DeletedRetention: time.Hour}
			s := New(cfg, db.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
			u := testdb.NewUser(t, s.sys, "ada@example.org")
			deleteOne := func(name string, ago time.Duration) string {
				p, err := s.sys.CreateProject(ctx, u.ID, projects.NewProject{Name: name})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.sys.Tenant(p.ID).DeleteProject(ctx, audit.Actor{UserID: u.ID}, name); err != nil {
					t.Fatal(err)
				}
				if err := db.DB.Exec("UPDATE projects SET deleted_at = ? WHERE id = ?", time.Now().Add(-ago), p.ID).Error; err != nil {
					t.Fatal(err)
				}
				return p.ID
			}
			old, recent := deleteOne("Old", 2*time.Hour), deleteOne("Recent", 30*time.Minute)
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); s.RunRetention(runCtx) }()
			defer func() { stop(); <-done }()
			count := func(id string) int64 {
				var n int64
				if err := db.DB.Table("projects").Where("id = ?", id).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			deadline := time.Now().Add(10 * time.Second)
			for count(old) != 0 {
				if time.Now().After(deadline) {
					t.Fatal("the project deleted two hours ago was not expunged")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if count(recent) != 1 {
				t.Error("the project deleted half an hour ago was expunged")
			}
		})
	}
}
