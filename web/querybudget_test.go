package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"enclave/models/kit"
	"enclave/models/testdb"
	"enclave/web"
	"enclave/web/webtest"

	"github.com/labstack/echo/v4"
)

// Query budgets: the most SQL statements one request may send to the
// database, GORM's and the pgx pipelines' alike (BEGIN and COMMIT are not
// counted). A budget holds for a cold request, the first after a write that
// voided this process's caller cache: the case after any change, and of a
// session this instance has not served lately. A warm request (caller
// cached) must fit too; it costs one statement less.
const (
	pageBudget         = 6 // any console page
	typePickerBudget   = 6 // one grouped count for the common types
	settingsSaveBudget = 8
	fhirReadBudget     = 3
	fhirSearchBudget   = 4
	fhirCreateBudget   = 3
	// SQLite has no pipeline: a new resource is one INSERT per table it
	// lands in (the resource, its history, each index table it has values
	// for: a named Patient has two).
	fhirCreateBudgetSQLite = 5
)

// budgetCase is one request of the budget table.
type budgetCase struct {
	name   string
	budget int
	// sqlite is the budget on SQLite when it differs.
	sqlite int
	status int
	do     func() *webtest.Response
	// prepare, when set, runs before each request, outside the count.
	prepare func()
	// writes is set when the request itself voids the caller cache, so
	// that warming it up takes another request.
	writes bool
}

// Per-request facts are computed once: a request's statements stay within
// its budget, warm and cold, on both databases. The counts are logged for
// the README (go test ./web -run QueryBudget -v).
func TestQueryBudget(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app, log := countingApp(t, db)
			ada, project := app.SignUp("ada@example.org", "Alpha")
			ada.Header(web.ProjectHeader, project)
			ada.NewProject("Beta")
			addMember(t, app, project, "bob@example.org", false)
			ada.NewPolicy(project, "Labs only")
			home := "/projects/" + project
			ada.PostForm(home+"/secrets", url.Values{"name": {"API_KEY"}, "value": {"s3cr3t"}}).Status(http.StatusOK)
			id := create(t, ada, "Patient", `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`)
			create(t, ada, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"}}`)

			// voidCallers is a write that moves the auth epoch, as any
			// change of a user, project or membership does.
			voidCallers := func() {
				t.Helper()
				if err := app.Sys.SetProjectFlags(t.Context(), project, true, false); err != nil {
					t.Fatal(err)
				}
			}
			var version int
			readVersion := func() {
				p, err := app.Sys.Tenant(project).Project(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				version = p.Version
			}
			saves := 0
			saveSettings := func() *webtest.Response {
				saves++
				return ada.PostForm(home+"/settings", url.Values{"name": {"Alpha"}, "description": {fmt.Sprint("Save ", saves)},
					"strictMode": {"on"}, "version": {strconv.Itoa(version)}})
			}
			get := func(path string) func() *webtest.Response { return func() *webtest.Response { return ada.Get(path) } }
			page := func(name, path string) budgetCase {
				return budgetCase{name: name, budget: pageBudget, status: http.StatusOK, do: get(path)}
			}
			api := func(method, path, body string) func() *webtest.Response {
				return func() *webtest.Response { return ada.API(method, path, body) }
			}

			requests := []budgetCase{
				page("project home", home),
				page("project chooser", "/projects"),
				page("new project page", "/projects/new"),
				page("account page", "/account"),
				{name: "resource types", budget: typePickerBudget, status: http.StatusOK, do: get(home + "/resources")},
				page("type search page", home+"/resources/Patient?name=Lovelace"),
				page("resource page", home+"/resources/Patient/"+id),
				page("settings page", home+"/settings"),
				page("members page", home+"/members"),
				page("secrets page", home+"/secrets"),
				page("access policies page", home+"/access-policies"),
				page("audit page", home+"/audit"),
				{name: "settings save", budget: settingsSaveBudget, status: http.StatusOK, do: saveSettings,
					prepare: readVersion, writes: true},
				{name: "FHIR read", budget: fhirReadBudget, status: http.StatusOK,
					do: api(http.MethodGet, "/fhir/R4/Patient/"+id, "")},
				{name: "FHIR search", budget: fhirSearchBudget, status: http.StatusOK,
					do: api(http.MethodGet, "/fhir/R4/Patient?name=Lovelace", "")},
				{name: "FHIR create", budget: fhirCreateBudget, sqlite: fhirCreateBudgetSQLite, status: http.StatusCreated,
					do: api(http.MethodPost, "/fhir/R4/Patient", `{"resourceType":"Patient","name":[{"family":"Hopper"}]}`)},
			}
			// run sends one request of r, and returns the statements it
			// sent.
			run := func(r budgetCase) []string {
				t.Helper()
				if r.prepare != nil {
					r.prepare()
				}
				log.takeAll()
				resp := r.do().Status(r.status)
				stmts, stray := requestStatements(log.takeAll(), resp.Header(echo.HeaderXRequestID))
				if len(stray) > 0 {
					t.Errorf("%s: statements without the request's context (counted too):\n%s", r.name, strings.Join(stray, "\n"))
				}
				return append(stmts, stray...)
			}
			var report strings.Builder
			for _, r := range requests {
				// The first visit may write (a session's last-seen time);
				// the next one fills the caller cache.
				run(r)
				if r.writes {
					ada.Get("/projects").Status(http.StatusOK)
				} else {
					run(r)
				}
				warm := run(r)
				voidCallers()
				cold := run(r)
				budget := r.budget
				if r.sqlite > 0 && kit.DialectOf(db.DB) == kit.SQLite {
					budget = r.sqlite
				}
				fmt.Fprintf(&report, "\n  %-22s warm %2d  cold %2d  (budget %d)", r.name, len(warm), len(cold), budget)
				for _, m := range []struct {
					when  string
					stmts []string
				}{{"warm", warm}, {"cold", cold}} {
					if len(m.stmts) > budget {
						t.Errorf("%s, %s: %d statements, over the budget of %d:\n%s", r.name, m.when, len(m.stmts), budget,
							strings.Join(m.stmts, "\n"))
					}
				}
			}
			t.Logf("statements per request on %s:%s", db.Name, report.String())
		})
	}
}

// requestStatements picks out of log the statements of the request with this
// id, and the stray ones: sent with no request's context at all, other than
// the mail sender's, which runs in the background. A stray statement is a
// query that lost its request's context (and with it the request's deadline).
func requestStatements(log []loggedSQL, requestID string) (mine, stray []string) {
	for _, s := range log {
		switch {
		case requestID != "" && s.request == requestID:
			mine = append(mine, s.sql)
		case s.request == "" && !strings.Contains(s.sql, "outbox"):
			stray = append(stray, s.sql)
		}
	}
	return mine, stray
}
