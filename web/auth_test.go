package web_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

func TestRegisterTwoSteps(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c := app.Client()
			page := c.Get("/register").Status(http.StatusOK)
			if !page.Has("register-form") || !page.Has("field-password") {
				t.Fatal("register page lacks its form")
			}

			c.PostForm("/register", url.Values{"firstName": {"Ada"}, "lastName": {"Lovelace"},
				"email": {"Ada@Example.org"}, "password": {"analytical"}}).
				Status(http.StatusSeeOther).RedirectsTo("/register/project")
			step2 := c.Get("/register/project").Status(http.StatusOK)
			if !step2.Has("project-form") {
				t.Fatal("step 2 lacks the project form")
			}
			loc := c.PostForm("/register/project", url.Values{"projectName": {"Clinic Dev"}, "description": {"Sandbox"}}).
				Status(http.StatusSeeOther).RedirectsTo("/projects/")

			home := c.Get(loc).Status(http.StatusOK)
			if got := home.TestID("project-title"); got != "Clinic Dev" {
				t.Errorf("project title %q", got)
			}
			if got := home.TestID("project-description"); got != "Sandbox" {
				t.Errorf("description %q", got)
			}
			if got := home.TestID("project-role"); got != "Admin" {
				t.Errorf("role %q, want Admin", got)
			}
			if got := home.TestID("member-count"); got != "1" {
				t.Errorf("member count %q, want 1", got)
			}
			if got := home.TestID("user-name"); got != "Ada Lovelace" {
				t.Errorf("header user %q", got)
			}
			u, err := app.Sys.UserByEmail(t.Context(), "ada@example.org")
			if err != nil || u.Email != "ada@example.org" {
				t.Errorf("user stored as %+v, %v; want lower-case email", u, err)
			}
		})
	}
}

// TestRegisterWhileSignedInKeepsTheAccount: the register form posted from a
// tab opened before signing in does not make a second account nor switch
// the session to it.
func TestRegisterWhileSignedInKeepsTheAccount(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, _ := app.SignUp("first@example.org", "First")
			c.PostForm("/register", url.Values{"firstName": {"Other"}, "lastName": {"Person"},
				"email": {"other@example.org"}, "password": {"analytical"}}).
				Status(http.StatusSeeOther).RedirectsTo("/projects/new")
			if got := c.Get("/account").Status(http.StatusOK).TestID("user-name"); got != "Test first" {
				t.Errorf("signed in as %q after the register form, want the first account", got)
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "other@example.org"); err == nil {
				t.Error("the register form made a second account for a signed-in user")
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("taken@example.org", "Existing")

			cases := []struct {
				name  string
				form  url.Values
				field string
				msg   string
			}{
				{"email taken", url.Values{"firstName": {"A"}, "lastName": {"B"}, "email": {"TAKEN@example.org"}, "password": {"long enough"}}, "email", "already exists"},
				{"password short", url.Values{"firstName": {"A"}, "lastName": {"B"}, "email": {"new@example.org"}, "password": {"short"}}, "password", "at least 8"},
				{"email malformed", url.Values{"firstName": {"A"}, "lastName": {"B"}, "email": {"nope"}, "password": {"long enough"}}, "email", "valid email"},
				{"first name missing", url.Values{"lastName": {"B"}, "email": {"x@example.org"}, "password": {"long enough"}}, "firstName", "required"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					// Without JavaScript: the whole page again, values kept, error by the field.
					c := app.Client()
					r := c.PostForm("/register", tc.form).Status(http.StatusUnprocessableEntity)
					if got := r.TestID("error-" + tc.field); !strings.Contains(got, tc.msg) {
						t.Errorf("error next to %s = %q, want %q", tc.field, got, tc.msg)
					}
					if !strings.Contains(r.Body, "<html") {
						t.Error("a plain POST must get the whole page")
					}
					if v, _ := r.Doc().Find("#f-email").Attr("value"); v != tc.form.Get("email") {
						t.Errorf("email field lost its value: %q", v)
					}
					r.NotContains(tc.form.Get("password"))

					// With htmx: only the form comes back, with the same error.
					c.HTMX = true
					r = c.PostForm("/register", tc.form).Status(http.StatusUnprocessableEntity)
					if strings.Contains(r.Body, "<html") || !r.Has("register-form") {
						t.Error("an htmx POST must get just the form fragment")
					}
					if got := r.TestID("error-" + tc.field); !strings.Contains(got, tc.msg) {
						t.Errorf("htmx: error next to %s = %q, want %q", tc.field, got, tc.msg)
					}
				})
			}
			if n := countUsers(t, app); n != 1 {
				t.Errorf("%d users after refused registrations, want 1", n)
			}
		})
	}
}

func countUsers(t *testing.T, app *webtest.App) int64 {
	var n int64
	if err := app.DB.DB.Table("users").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSignInLanding(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)

			// One project: straight into it.
			_, one := app.SignUp("one@example.org", "Only")
			app.Client().SignIn("ONE@example.org").Status(http.StatusSeeOther).RedirectsTo("/projects/" + one)

			// Several: the chooser, listing them all.
			c, _ := app.SignUp("many@example.org", "Prod")
			c.NewProject("Dev")
			c2 := app.Client()
			c2.SignIn("many@example.org").RedirectsTo("/projects")
			choose := c2.Get("/projects").Status(http.StatusOK)
			if got := choose.TestIDs("project-name"); strings.Join(got, ",") != "Dev,Prod" {
				t.Errorf("chooser lists %v, want Dev,Prod", got)
			}

			// None (registered, never finished step 2): create a project.
			c3 := app.Client()
			c3.PostForm("/register", url.Values{"firstName": {"N"}, "lastName": {"O"}, "email": {"none@example.org"}, "password": {"password-123"}})
			app.Client().SignIn("none@example.org").RedirectsTo("/projects/new")

			// A safe next= wins; an off-site one is ignored.
			c4 := app.Client()
			c4.PostForm("/signin", url.Values{"email": {"one@example.org"}, "password": {"password-123"}, "next": {"/projects/" + one}}).
				RedirectsTo("/projects/" + one)
			c5 := app.Client()
			c5.PostForm("/signin", url.Values{"email": {"one@example.org"}, "password": {"password-123"}, "next": {"//evil.example/x"}}).
				RedirectsTo("/projects/" + one)
		})
	}
}

func TestSignInFailureIsGeneric(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			var messages []string
			for _, creds := range [][2]string{{"ada@example.org", "wrong-password"}, {"nobody@example.org", "password-123"}} {
				c := app.Client()
				r := c.PostForm("/signin", url.Values{"email": {creds[0]}, "password": {creds[1]}}).Status(http.StatusUnauthorized)
				messages = append(messages, r.TestID("form-error"))
				if c.Cookie("enclave_session") != "" {
					t.Error("a failed sign-in must not start a session")
				}
				c.HTMX = true
				r = c.PostForm("/signin", url.Values{"email": {creds[0]}, "password": {creds[1]}}).Status(http.StatusUnauthorized)
				if !r.Has("signin-form") || strings.Contains(r.Body, "<html") {
					t.Error("htmx sign-in failure must return the form fragment")
				}
			}
			if messages[0] != "Email or password is incorrect." || messages[0] != messages[1] {
				t.Errorf("failure messages %q: want the same generic message for both", messages)
			}
		})
	}
}

func TestSessionRotatesAndSignOutRevokes(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			c, project := app.SignUp("ada@example.org", "Alpha")
			registered := c.Cookie("enclave_session")

			c.SignIn("ada@example.org").Status(http.StatusSeeOther)
			signedIn := c.Cookie("enclave_session")
			if signedIn == "" || signedIn == registered {
				t.Fatal("sign-in must issue a new session id")
			}
			// The session from before sign-in is dead.
			old := app.Client()
			old.SetCookie("enclave_session", registered)
			old.Get("/projects/" + project).Status(http.StatusSeeOther).RedirectsTo("/signin")

			c.Get("/projects/" + project).Status(http.StatusOK)
			c.PostForm("/signout", nil).Status(http.StatusSeeOther).RedirectsTo("/signin")
			if c.Cookie("enclave_session") != "" {
				t.Error("sign-out must clear the cookie")
			}
			// Replaying the signed-out cookie gets nowhere: the server forgot it.
			replay := app.Client()
			replay.SetCookie("enclave_session", signedIn)
			replay.Get("/projects/" + project).Status(http.StatusSeeOther).RedirectsTo("/signin?next=")
			var rows int64
			app.DB.DB.Table("sessions").Count(&rows)
			if rows != 0 {
				t.Errorf("%d session rows left after sign-out, want 0", rows)
			}
		})
	}
}

func TestSessionCookieFlags(t *testing.T) {
	db := testdb.SQLite(t)
	for _, tls := range []bool{false, true} {
		var app *webtest.App
		if tls {
			app = webtest.NewTLS(t, db)
		} else {
			app = webtest.New(t, db)
		}
		c := app.Client()
		r := c.PostForm("/register", url.Values{"firstName": {"A"}, "lastName": {"B"},
			"email": {map[bool]string{false: "plain@example.org", true: "tls@example.org"}[tls]}, "password": {"password-123"}})
		var session *http.Cookie
		for _, ck := range r.Resp.Cookies() {
			if ck.Name == "enclave_session" {
				session = ck
			}
		}
		if session == nil {
			t.Fatalf("tls=%v: no session cookie set", tls)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tls {
			t.Errorf("tls=%v: cookie HttpOnly=%v SameSite=%v Secure=%v", tls, session.HttpOnly, session.SameSite, session.Secure)
		}
	}
}

// TestSignInSlowsDownGuesses: every attempt is counted before the password
// is checked, so parallel guesses cannot all be tried; past the free ones
// the answer is 429 with Retry-After, even for the right password; other
// accounts are unaffected.
func TestSignInSlowsDownGuesses(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			app.SignUp("bob@example.org", "Beta")
			// The clock stands still: on a slow machine the 40 requests
			// may take longer than the first delay, which would let one
			// more guess through, rightly.
			now := time.Now()
			defer accounts.SetThrottleClockForTests(func() time.Time { return now })()
			var checked, refused atomic.Int32
			var wg sync.WaitGroup
			for range 40 {
				wg.Go(func() {
					r := app.Client().PostForm("/signin", url.Values{"email": {"ada@example.org"}, "password": {"guess-guess"}})
					switch r.Resp.StatusCode {
					case http.StatusUnauthorized:
						checked.Add(1)
					case http.StatusTooManyRequests:
						refused.Add(1)
					}
				})
			}
			wg.Wait()
			if checked.Load() != int32(accounts.SignInPerAccount.Free) || refused.Load() != 40-checked.Load() {
				t.Fatalf("of 40 parallel guesses %d were checked and %d refused, want %d checked", checked.Load(), refused.Load(), accounts.SignInPerAccount.Free)
			}
			// Even the right password must wait now, with a message that
			// says why and a Retry-After.
			c := app.Client()
			r := c.SignIn("Ada@example.org").Status(http.StatusTooManyRequests)
			if !strings.Contains(r.TestID("form-error"), "Too many sign-in attempts") || r.Resp.Header.Get("Retry-After") == "" {
				t.Errorf("message %q, Retry-After %q", r.TestID("form-error"), r.Resp.Header.Get("Retry-After"))
			}
			if c.Cookie("enclave_session") != "" {
				t.Error("a refused sign-in started a session")
			}
			// Other accounts are unaffected.
			app.Client().SignIn("bob@example.org").Status(http.StatusSeeOther)
		})
	}
}

// TestPasswordSprayingIsLimited: one address failing across many accounts
// is slowed down, while correct sign-ins from it do not count.
func TestPasswordSprayingIsLimited(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			app.SignUp("ada@example.org", "Alpha")
			for range 3 * accounts.SignInPerAddress.Free / 2 {
				app.Client().SignIn("ada@example.org").Status(http.StatusSeeOther)
			}
			for i := range accounts.SignInPerAddress.Free {
				app.Client().PostForm("/signin", url.Values{"email": {fmt.Sprintf("victim%d@example.org", i)}, "password": {"guess-guess"}}).
					Status(http.StatusUnauthorized)
			}
			app.Client().PostForm("/signin", url.Values{"email": {"one-more@example.org"}, "password": {"guess-guess"}}).
				Status(http.StatusTooManyRequests)
		})
	}
}

// TestRegistrationsPerAddressAreLimited: one address cannot register
// accounts without end.
func TestRegistrationsPerAddressAreLimited(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			for i := range accounts.RegisterPerAddress.Free {
				app.Client().PostForm("/register", url.Values{"firstName": {"Reg"}, "lastName": {"Ister"},
					"email": {fmt.Sprintf("r%d@example.org", i)}, "password": {"password-123"}}).Status(http.StatusSeeOther)
			}
			r := app.Client().PostForm("/register", url.Values{"firstName": {"Reg"}, "lastName": {"Ister"},
				"email": {"one-more@example.org"}, "password": {"password-123"}}).Status(http.StatusTooManyRequests)
			if r.Resp.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
			if _, err := app.Sys.UserByEmail(t.Context(), "one-more@example.org"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("the refused registration made an account: %v", err)
			}
		})
	}
}
