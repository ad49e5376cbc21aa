package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/testdb"
)

// TestEndedSessionStaysEnded: a request that loaded its session just before
// the session was ended elsewhere (signed out from the account page, or by
// a password change) must not bring it back when it saves the session.
func TestEndedSessionStaysEnded(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := t.Context()
			sys := models.NewSystem(db.DB)
			u, err := sys.CreateUser(ctx, accounts.NewUser{FirstName: "Ada", LastName: "L", Email: "ada@example.org", Password: "password-123"})
			if err != nil {
				t.Fatal(err)
			}
			store := newDBStore(sys.Sessions(), []byte("0123456789abcdef0123456789abcdef"))

			signIn := httptest.NewRequest(http.MethodPost, "/signin", nil)
			sess, err := store.New(signIn, sessionCookie)
			if err != nil {
				t.Fatal(err)
			}
			sess.Values[keyUserID] = u.ID
			rec := httptest.NewRecorder()
			if err := sess.Save(signIn, rec); err != nil {
				t.Fatal(err)
			}
			cookies := rec.Result().Cookies()
			if len(cookies) != 1 {
				t.Fatalf("sign-in set %d cookies, want 1", len(cookies))
			}

			// A later request loads the session...
			later := httptest.NewRequest(http.MethodGet, "/projects/p", nil)
			later.AddCookie(cookies[0])
			loaded, err := store.New(later, sessionCookie)
			if err != nil || loaded.IsNew {
				t.Fatalf("the session did not load: new %v, %v", loaded.IsNew, err)
			}
			// ...the owner signs it out from elsewhere...
			list, err := sys.UserSessions(ctx, u.ID, "")
			if err != nil || len(list) != 1 {
				t.Fatalf("sessions %v, %v", list, err)
			}
			if err := sys.EndUserSession(ctx, u.ID, list[0].ID); err != nil {
				t.Fatal(err)
			}
			// ...and the request saves what it changed.
			loaded.Values["p_test"] = "p"
			rec = httptest.NewRecorder()
			if err := loaded.Save(later, rec); err != nil {
				t.Fatal(err)
			}
			if _, err := sys.Sessions().Load(ctx, loaded.ID); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the ended session came back: %v", err)
			}
			if list, err := sys.UserSessions(ctx, u.ID, ""); err != nil || len(list) != 0 {
				t.Errorf("sessions after the save: %v, %v; want none", list, err)
			}
			for _, ck := range rec.Result().Cookies() {
				if ck.Name == sessionCookie && ck.MaxAge >= 0 {
					t.Errorf("the save kept the cookie %+v of an ended session", ck)
				}
			}

			// A live session still saves as before.
			again := httptest.NewRequest(http.MethodPost, "/signin", nil)
			fresh, err := store.New(again, sessionCookie)
			if err != nil {
				t.Fatal(err)
			}
			fresh.Values[keyUserID] = u.ID
			if err := fresh.Save(again, httptest.NewRecorder()); err != nil {
				t.Fatal(err)
			}
			fresh.Values["p_test"] = "q"
			if err := fresh.Save(again, httptest.NewRecorder()); err != nil {
				t.Fatal(err)
			}
			data, err := sys.Sessions().Load(ctx, fresh.ID)
			if err != nil || len(data) == 0 {
				t.Errorf("a live session's update was lost: %v", err)
			}
		})
	}
}
