package web_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"enclave/models/audit"
	"enclave/models/members"
	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// sqlLog is a GORM logger that records every statement run through it, and
// the request each belongs to.
type sqlLog struct {
	mu    sync.Mutex
	stmts []loggedSQL
}

// loggedSQL is one statement and the id of the request that sent it ("" for
// none: a background job, or the test itself).
type loggedSQL struct {
	sql, request string
}

func (l *sqlLog) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *sqlLog) Info(context.Context, string, ...any)     {}
func (l *sqlLog) Warn(context.Context, string, ...any)     {}
func (l *sqlLog) Error(context.Context, string, ...any)    {}
func (l *sqlLog) Trace(ctx context.Context, _ time.Time, fc func() (string, int64), _ error) {
	sql, _ := fc()
	l.add(ctx, sql)
}

func (l *sqlLog) add(ctx context.Context, sql string) {
	l.mu.Lock()
	l.stmts = append(l.stmts, loggedSQL{sql: sql, request: web.RequestIDOf(ctx)})
	l.mu.Unlock()
}

// takeAll returns the statements recorded since the last take.
func (l *sqlLog) takeAll() []loggedSQL {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stmts
	l.stmts = nil
	return s
}

// take returns the text of the statements recorded since the last take.
func (l *sqlLog) take() []string {
	var out []string
	for _, s := range l.takeAll() {
		out = append(out, s.sql)
	}
	return out
}

// callerQuery matches a statement that reads what resolving a caller reads:
// sessions, users, a user's memberships, projects or access policies (and
// not, say, a project's member count).
var callerQuery = regexp.MustCompile(`(?i)\b(sessions|users|user_id|projects|access_policies)\b`)

func callerStatements(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if callerQuery.MatchString(s) {
			out = append(out, s)
		}
	}
	return out
}

// countingApp starts a server whose every statement lands in the log: GORM's
// and, on PostgreSQL, those of the pgx pipelines.
func countingApp(t *testing.T, db testdb.DB) (*webtest.App, *sqlLog) {
	t.Helper()
	log := &sqlLog{}
	t.Cleanup(resources.WatchPipelines(log.add))
	counted := db
	counted.DB = db.DB.Session(&gorm.Session{Logger: log})
	return webtest.New(t, counted), log
}

// A warm console page and a warm API read run no caller query at all; a
// cold one runs exactly one.
func TestWarmRequestsRunNoCallerQuery(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app, log := countingApp(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			ada.Header(web.ProjectHeader, project)
			id := create(t, ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`)
			// A second browser that names no project: the API takes the
			// user's only one.
			console := app.Client()
			console.SignIn("ada@example.org")
			console.Get("/projects/" + project).Status(http.StatusOK)

			requests := []struct {
				name string
				do   func() *webtest.Response
			}{
				{"project home", func() *webtest.Response { return ada.Get("/projects/" + project) }},
				{"resource page", func() *webtest.Response { return ada.Get("/projects/" + project + "/resources/Patient/" + id) }},
				{"project chooser", func() *webtest.Response { return ada.Get("/projects") }},
				{"API read", func() *webtest.Response { return ada.API(http.MethodGet, "/fhir/R4/Patient/"+id, "") }},
				{"API read, only project", func() *webtest.Response {
					return console.API(http.MethodGet, "/fhir/R4/Patient/"+id, "")
				}},
			}
			for _, r := range requests {
				// The first visits may write (a session's last-seen time);
				// the third is warm.
				r.do().Status(http.StatusOK)
				r.do().Status(http.StatusOK)
				log.take()
				r.do().Status(http.StatusOK)
				stmts := log.take()
				if got := callerStatements(stmts); len(got) > 0 {
					t.Errorf("%s, warm: %d caller queries, want none:\n%s", r.name, len(got), strings.Join(got, "\n"))
				}
				t.Logf("%s, warm: %d statements", r.name, len(stmts))

				// Any change voids the cache: the next request resolves the
				// caller again, in one statement.
				if err := app.Sys.SetProjectFlags(t.Context(), project, true, false); err != nil {
					t.Fatal(err)
				}
				log.take()
				r.do().Status(http.StatusOK)
				if got := callerStatements(log.take()); len(got) != 1 {
					t.Errorf("%s, cold: %d caller queries, want one:\n%s", r.name, len(got), strings.Join(got, "\n"))
				}
			}
		})
	}
}

// Revocations apply on the very next request of the same instance, however
// warm the cache.
func TestCachedCallerRevocationsApplyAtOnce(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Alpha")
			admin.Header(web.ProjectHeader, project)
			id := create(t, admin, "Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`)
			bob := addMember(t, app, project, "bob@example.org", false)
			bob.Header(web.ProjectHeader, project)
			home, patient := "/projects/"+project, "/fhir/R4/Patient/"+id
			warm := func() {
				t.Helper()
				for range 2 {
					bob.Get(home).Status(http.StatusOK)
					bob.API(http.MethodGet, patient, "").Status(http.StatusOK)
				}
			}
			ctx := t.Context()
			tn := app.Sys.Tenant(project)

			// A policy given to the member, then changed.
			warm()
			pol, err := tn.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Labs",
				Rules: []resources.PolicyRule{{ResourceType: "Observation"}}})
			if err != nil {
				t.Fatal(err)
			}
			m, err := tn.Membership(ctx, userID(t, app, "bob@example.org"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tn.UpdateMember(ctx, audit.Actor{}, m.ID, members.MemberUpdate{Active: true, AccessPolicyID: &pol.ID}); err != nil {
				t.Fatal(err)
			}
			bob.API(http.MethodGet, patient, "").Status(http.StatusForbidden)
			bob.API(http.MethodGet, patient, "").Status(http.StatusForbidden)
			if _, err := tn.UpdateAccessPolicy(ctx, audit.Actor{}, pol.ID, resources.PolicyInput{Name: "Labs",
				Rules: []resources.PolicyRule{{ResourceType: "Observation"}, {ResourceType: "Patient", HiddenFields: []string{"name"}}}}); err != nil {
				t.Fatal(err)
			}
			if got := bob.API(http.MethodGet, patient, "").Status(http.StatusOK).JSON(); got["name"] != nil {
				t.Errorf("hidden field still shown: %v", got["name"])
			}

			// A settings change.
			bad := `{"resourceType":"Patient","nickname":"Ada"}`
			admin.API(http.MethodPost, "/fhir/R4/Patient", bad).Status(http.StatusBadRequest)
			if err := app.Sys.SetProjectFlags(ctx, project, false, false); err != nil {
				t.Fatal(err)
			}
			admin.API(http.MethodPost, "/fhir/R4/Patient", bad).Status(http.StatusCreated)

			// The member removed.
			warm()
			if _, err := tn.RemoveMember(ctx, audit.Actor{}, m.ID); err != nil {
				t.Fatal(err)
			}
			bob.Get(home).Status(http.StatusNotFound)
			bob.API(http.MethodGet, patient, "").Status(http.StatusNotFound)

			// Sign-out: the old cookie, replayed, is signed out.
			admin.Get(home).Status(http.StatusOK)
			admin.API(http.MethodGet, patient, "").Status(http.StatusOK)
			cookie := admin.Cookie("enclave_session")
			admin.PostForm("/signout", nil).RedirectsTo("/signin")
			admin.SetCookie("enclave_session", cookie)
			admin.Get(home).RedirectsTo("/signin")
			admin.API(http.MethodGet, patient, "").Status(http.StatusUnauthorized)
		})
	}
}

// clock is a stopped clock for the server's caller cache: it moves only
// when told.
type clock struct {
	start  time.Time
	offset atomic.Int64
}

func newClock() *clock                   { return &clock{start: time.Now()} }
func (c *clock) now() time.Time          { return c.start.Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// userID returns the id of the user with this email.
func userID(t *testing.T, app *webtest.App, email string) string {
	t.Helper()
	u, err := app.Sys.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// A change this instance did not make (another instance's, here raw SQL)
// shows once the cached caller's TTL is up: that is the revocation delay
// across instances.
func TestCachedCallerExpiresAfterTTL(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			clk := newClock()
			app.Server.SetCallerClock(clk.now)
			_, project := app.SignUp("admin@example.org", "Alpha")
			bob := addMember(t, app, project, "bob@example.org", false)
			home := "/projects/" + project
			bob.Get(home).Status(http.StatusOK)
			bob.Get(home).Status(http.StatusOK)

			if err := app.DB.DB.Exec("UPDATE project_memberships SET active = ? WHERE user_id = ?", false, userID(t, app, "bob@example.org")).Error; err != nil {
				t.Fatal(err)
			}
			bob.Get(home).Status(http.StatusOK)
			clk.advance(web.CallerCacheTTL - 10*time.Millisecond)
			bob.Get(home).Status(http.StatusOK)
			clk.advance(10 * time.Millisecond)
			bob.Get(home).Status(http.StatusNotFound)

			if err := app.DB.DB.Exec("DELETE FROM sessions").Error; err != nil {
				t.Fatal(err)
			}
			bob.Get("/projects").Status(http.StatusOK)
			clk.advance(web.CallerCacheTTL)
			bob.Get("/projects").RedirectsTo("/signin")
		})
	}
}
