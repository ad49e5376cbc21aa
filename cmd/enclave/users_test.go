package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
)

// TestUsersSetPassword: the operator sets a password from standard input;
// it then works, the old one does not, and the account's sessions are gone.
// An unknown address and a short password are refused and change nothing.
func TestUsersSetPassword(t *testing.T) {
	for _, target := range rotationDBs(t) {
		t.Run(target.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", target.url)
			ctx := context.Background()
			sys := models.NewSystem(target.db)
			u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.org", Password: "password-123"})
			if err != nil {
				t.Fatal(err)
			}
			if err := sys.Sessions().Save(ctx, "ada-session-token", &u.ID, []byte("{}"), time.Now().Add(time.Hour), accounts.SessionMeta{}); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Sessions().Load(ctx, "ada-session-token"); err != nil {
				t.Fatalf("the session is not there to begin with: %v", err)
			}

			var out bytes.Buffer
			for _, tc := range []struct {
				name, email, input, want string
			}{
				{"unknown email", "nobody@example.org", "new-password-456\n", "no account uses the email address nobody@example.org"},
				{"short password", "ada@example.org", "short\n", "at least 8 characters"},
				{"empty line", "ada@example.org", "\n", "at least 8 characters"},
				{"nothing on stdin", "ada@example.org", "", "no password on standard input"},
			} {
				out.Reset()
				err := runUsers([]string{"set-password", tc.email}, strings.NewReader(tc.input), &out)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
				}
			}
			if _, err := sys.Authenticate(ctx, "ada@example.org", "password-123"); err != nil {
				t.Fatalf("a refused command changed the password: %v", err)
			}
			if _, err := sys.Sessions().Load(ctx, "ada-session-token"); err != nil {
				t.Fatalf("a refused command ended the session: %v", err)
			}

			out.Reset()
			if err := runUsers([]string{"set-password", "Ada@Example.org"}, strings.NewReader("new password 456\r\nsecond line\n"), &out); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), "ada@example.org") || strings.Contains(out.String(), "new password 456") {
				t.Errorf("output %q: want the account named and no password", out.String())
			}
			if _, err := sys.Authenticate(ctx, "ada@example.org", "new password 456"); err != nil {
				t.Errorf("the new password does not work: %v", err)
			}
			if _, err := sys.Authenticate(ctx, "ada@example.org", "password-123"); !errors.Is(err, accounts.ErrBadCredentials) {
				t.Errorf("the old password: %v, want ErrBadCredentials", err)
			}
			if _, err := sys.Sessions().Load(ctx, "ada-session-token"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the account's session after set-password: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestUsersUsage(t *testing.T) {
	var out bytes.Buffer
	if err := runUsers([]string{"-h"}, strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "enclave users set-password") || !strings.Contains(out.String(), "standard input") {
		t.Errorf("usage: %s", out.String())
	}
	out.Reset()
	if err := runUsers([]string{"set-password", "-h"}, strings.NewReader(""), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "-database-url") {
		t.Errorf("set-password -h: %s", out.String())
	}
	for _, args := range [][]string{nil, {"delete", "a@example.org"}, {"set-password"}, {"set-password", "a@example.org", "b@example.org"}} {
		if err := runUsers(args, strings.NewReader("password-123\n"), &out); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
