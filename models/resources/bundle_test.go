package resources_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/testdb"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// txBundle is a Bundle of type kind with the given entries (JSON objects).
func txBundle(kind string, entries ...string) []byte {
	return []byte(`{"resourceType":"Bundle","type":"` + kind + `","entry":[` + strings.Join(entries, ",") + `]}`)
}

// post is an entry creating res under fullURL.
func post(fullURL, res string) string {
	typ := res[strings.Index(res, `"resourceType":"`)+16:]
	typ = typ[:strings.Index(typ, `"`)]
	return `{"fullUrl":"` + fullURL + `","resource":` + res + `,"request":{"method":"POST","url":"` + typ + `"}}`
}

// count is how many live resources of typ the store sees.
func count(t *testing.T, ten models.Tenant, typ string) int {
	t.Helper()
	n, err := ten.CountByType(ctx, []string{typ})
	if err != nil {
		t.Fatal(err)
	}
	return n[typ]
}

// entryError unwraps the entry a transaction was refused for.
func entryError(t *testing.T, err error) *resources.EntryError {
	t.Helper()
	var ee *resources.EntryError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want an EntryError", err)
	}
	return ee
}

func TestTransactionResolvesFullUrls(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			const pat = "urn:uuid:11111111-1111-4111-8111-111111111111"
			res, err := ten.ProcessBundle(ctx, txBundle("transaction",
				// The Observation comes first: references resolve whatever the order.
				post("urn:uuid:22222222-2222-4222-8222-222222222222", `{"resourceType":"Observation","status":"final","code":{"text":"pulse"},
					"subject":{"reference":"`+pat+`"},
					"contained":[{"resourceType":"Provenance","id":"p","recorded":"2020-01-01T00:00:00Z","target":[{"reference":"`+pat+`"}],"agent":[{"who":{"display":"x"}}]}],
					"extension":[{"url":"http://example.org/about","valueReference":{"reference":"`+pat+`"}}]}`),
				post(pat, `{"resourceType":"Patient","id":"ignored","name":[{"family":"Lovelace"}]}`),
			))
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != "transaction-response" || len(res.Entries) != 2 {
				t.Fatalf("answer %+v", res)
			}
			obs, patient := res.Entries[0], res.Entries[1]
			if obs.Status != http.StatusCreated || patient.Status != http.StatusCreated || patient.Resource.Type != "Patient" ||
				patient.Resource.ID == "ignored" || patient.Resource.VersionID != "1" {
				t.Fatalf("entries in the request's order with 201: %+v / %+v", obs, patient)
			}
			stored, err := ten.ReadResource(ctx, "Observation", obs.Resource.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := `"reference":"Patient/` + patient.Resource.ID + `"`
			if n := strings.Count(string(stored.JSON), want); n != 3 || strings.Contains(string(stored.JSON), "urn:uuid") {
				t.Errorf("stored %s: want the subject, the contained target and the extension to read %s", stored.JSON, want)
			}
			// The references are indexed as written: a search finds it.
			q, err := resources.ParseSearch("Observation", map[string][]string{"subject": {"Patient/" + patient.Resource.ID}}, false)
			if err != nil {
				t.Fatal(err)
			}
			found, err := ten.Search(ctx, q)
			if err != nil || len(found.Resources) != 1 {
				t.Errorf("search by the resolved subject: %d found, %v", len(found.Resources), err)
			}
			if _, err := ten.ReadResourceVersion(ctx, "Patient", patient.Resource.ID, "1"); err != nil {
				t.Errorf("history of the created Patient: %v", err)
			}
		})
	}
}

func TestTransactionConditionalEntries(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			old := testdb.MustCreate(t, ten, `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]}`)
			gone := testdb.MustCreate(t, ten, `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"del"}]}`)
			const pat = "urn:uuid:33333333-3333-4333-8333-333333333333"
			res, err := ten.ProcessBundle(ctx, txBundle("transaction",
				`{"fullUrl":"`+pat+`","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]},
					"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|7"}}`,
				post("urn:uuid:44444444-4444-4444-8444-444444444444", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"`+pat+`"}}`),
				`{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"8"}],"active":true},
					"request":{"method":"PUT","url":"Patient?identifier=urn:mrn|8"}}`,
				`{"request":{"method":"DELETE","url":"Patient?identifier=urn:mrn|del"}}`,
				post("urn:uuid:55555555-5555-4555-8555-555555555555", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
					"subject":{"reference":"Patient?identifier=urn:mrn|7"}}`),
			))
			if err != nil {
				t.Fatal(err)
			}
			if e := res.Entries[0]; e.Status != http.StatusOK || e.Resource.ID != old.ID {
				t.Errorf("ifNoneExist with a match: %d %s, want 200 and %s", e.Status, e.Resource.ID, old.ID)
			}
			if n := count(t, ten, "Patient"); n != 2 {
				t.Errorf("%d Patients, want the matched one and the conditional update's new one", n)
			}
			obs, err := ten.ReadResource(ctx, "Observation", res.Entries[1].Resource.ID)
			if err != nil || !strings.Contains(string(obs.JSON), `"Patient/`+old.ID+`"`) {
				t.Errorf("the reference to the matched entry's fullUrl: %s %v, want Patient/%s", obs.JSON, err, old.ID)
			}
			if e := res.Entries[2]; e.Status != http.StatusCreated {
				t.Errorf("conditional update without a match: %d, want 201", e.Status)
			}
			if e := res.Entries[3]; e.Status != http.StatusNoContent || e.Resource.ID != gone.ID {
				t.Errorf("conditional delete: %+v", e)
			}
			if _, err := ten.ReadResource(ctx, "Patient", gone.ID); !errors.Is(err, resources.ErrGone) {
				t.Errorf("the deleted Patient: %v", err)
			}
			enc, err := ten.ReadResource(ctx, "Encounter", res.Entries[4].Resource.ID)
			if err != nil || !strings.Contains(string(enc.JSON), `"Patient/`+old.ID+`"`) {
				t.Errorf("conditional reference: %s %v", enc.JSON, err)
			}

			// The same conditional update again now updates its match.
			again, err := ten.ProcessBundle(ctx, txBundle("transaction",
				`{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"8"}],"active":false},
					"request":{"method":"PUT","url":"Patient?identifier=urn:mrn|8"}}`))
			if err != nil || again.Entries[0].Status != http.StatusOK || again.Entries[0].Resource.VersionID != "2" {
				t.Errorf("conditional update with one match: %+v %v", again, err)
			}
			// Several matches: 412, nothing written.
			testdb.MustCreate(t, ten, `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]}`)
			_, err = ten.ProcessBundle(ctx, txBundle("transaction",
				post("urn:uuid:66666666-6666-4666-8666-666666666666", `{"resourceType":"Patient"}`),
				`{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|7"}}`))
			if ee := entryError(t, err); ee.Index != 1 || !errors.Is(err, resources.ErrPreconditionFailed) {
				t.Errorf("several matches: entry %d, %v", ee.Index, err)
			}
			if n := count(t, ten, "Patient"); n != 3 {
				t.Errorf("%d Patients after the refused transaction, want 3", n)
			}
		})
	}
}

func TestTransactionAllOrNothing(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			keep := testdb.MustCreate(t, ten, `{"resourceType":"Patient","id":"x","name":[{"family":"Kept"}]}`)
			cases := []struct {
				name    string
				entries []string
				index   int
				is      error
				says    string
			}{
				{"an invalid resource", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					`{"request":{"method":"DELETE","url":"Patient/` + keep.ID + `"}}`,
					post("urn:uuid:2", `{"resourceType":"Observation","status":5,"code":{"text":"t"}}`),
				}, 2, nil, "status"},
				{"a stale If-Match", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					`{"resource":{"resourceType":"Patient","id":"` + keep.ID + `"},"request":{"method":"PUT","url":"Patient/` + keep.ID + `","ifMatch":"W/\"9\""}}`,
				}, 1, resources.ErrPreconditionFailed, "version"},
				{"a missing resource to delete", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					`{"request":{"method":"DELETE","url":"Patient/nobody"}}`,
				}, 1, kit.ErrNotFound, ""},
				{"a GET of a missing resource", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					`{"request":{"method":"GET","url":"Patient/nobody"}}`,
				}, 1, kit.ErrNotFound, ""},
				{"a resource type that does not exist", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					`{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Nonsense"}}`,
				}, 1, nil, "Nonsense"},
				{"the same fullUrl twice", []string{
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
					post("urn:uuid:1", `{"resourceType":"Patient"}`),
				}, 1, nil, "fullUrl"},
				{"a urn:uuid reference to no entry", []string{
					post("urn:uuid:1", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"urn:uuid:9"}}`),
				}, 0, nil, "no fullUrl"},
				{"a PUT whose id is not the url's", []string{
					`{"resource":{"resourceType":"Patient","id":"a"},"request":{"method":"PUT","url":"Patient/b"}}`,
				}, 0, nil, "must match"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					_, err := ten.ProcessBundle(ctx, txBundle("transaction", c.entries...))
					ee := entryError(t, err)
					if ee.Index != c.index || (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.says) {
						t.Errorf("refused for entry %d: %v; want entry %d, %v, %q", ee.Index, err, c.index, c.is, c.says)
					}
					if n := count(t, ten, "Patient"); n != 1 {
						t.Errorf("%d Patients after the refusal, want only the one there before", n)
					}
					if r, err := ten.ReadResource(ctx, "Patient", keep.ID); err != nil || r.VersionID != "1" {
						t.Errorf("the Patient there before: %v %v", r.VersionID, err)
					}
				})
			}
		})
	}
}

// TestTransactionOrder: DELETE, then POST, then PUT and PATCH, then GET,
// whatever the order of the entries; the answer keeps the request's order.
func TestTransactionOrder(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			for _, id := range []string{"x", "old"} {
				if _, _, err := ten.PutResource(ctx, "Patient", id, []byte(`{"resourceType":"Patient","id":"`+id+`","active":true}`), ""); err != nil {
					t.Fatal(err)
				}
			}
			patch := `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` +
				base64Of(`[{"op":"replace","path":"/active","value":false}]`) + `"}`
			res, err := ten.ProcessBundle(ctx, txBundle("transaction",
				`{"request":{"method":"GET","url":"Patient/new"}}`,
				`{"request":{"method":"GET","url":"Patient?_id=new,old"}}`,
				`{"request":{"method":"GET","url":"StructureDefinition?url=http://hl7.org/fhir/StructureDefinition/Patient"}}`,
				`{"resource":`+patch+`,"request":{"method":"PATCH","url":"Patient/old"}}`,
				`{"resource":{"resourceType":"Patient","id":"new","gender":"other"},"request":{"method":"PUT","url":"Patient/new"}}`,
				`{"request":{"method":"DELETE","url":"Patient/x"}}`,
			))
			if err != nil {
				t.Fatal(err)
			}
			statuses := ""
			for _, e := range res.Entries {
				statuses += fmt.Sprint(e.Status, " ")
			}
			if statuses != "200 200 200 200 201 204 " {
				t.Errorf("statuses %q, want the GETs to see the PUT and the PATCH", statuses)
			}
			if !strings.Contains(string(res.Entries[0].Resource.JSON), `"gender":"other"`) {
				t.Errorf("GET Patient/new: %s", res.Entries[0].Resource.JSON)
			}
			if s := res.Entries[1].Search; s == nil || len(s.Resources) != 2 {
				t.Errorf("GET search: %+v", s)
			}
			if s := res.Entries[2].Search; s == nil || len(s.Resources) != 1 {
				t.Errorf("GET of a shared definition: %+v", s)
			}
			if r := res.Entries[3].Resource; r.VersionID != "2" || !strings.Contains(string(r.JSON), `"active":false`) {
				t.Errorf("PATCH: %s", r.JSON)
			}
		})
	}
}

func base64Of(s string) string {
	b, _ := json.Marshal([]byte(s))
	return strings.Trim(string(b), `"`)
}

func TestBatchEntriesStandAlone(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			res, err := ten.ProcessBundle(ctx, txBundle("batch",
				post("urn:uuid:1", `{"resourceType":"Patient","name":[{"family":"Good"}]}`),
				post("urn:uuid:2", `{"resourceType":"Observation","status":5,"code":{"text":"t"}}`),
				`{"request":{"method":"GET","url":"Patient/nobody"}}`,
				`{"request":{"method":"TRACE","url":"Patient"}}`,
				`{"resource":{"resourceType":"Patient","id":"mine"},"request":{"method":"PUT","url":"Patient/mine"}}`,
				`{"request":{"method":"GET","url":"Patient?name=a%00b"}}`,
				`{"request":{"method":"GET","url":"Patient/mine/_history/one"}}`,
				`{"request":{"method":"DELETE","url":"Patient/not%20an%20id"}}`,
			))
			if err != nil {
				t.Fatal(err)
			}
			if res.Type != "batch-response" || len(res.Entries) != 8 {
				t.Fatalf("answer %+v", res)
			}
			if e := res.Entries[0]; e.Err != nil || e.Status != http.StatusCreated {
				t.Errorf("valid POST: %d %v", e.Status, e.Err)
			}
			var rerr *resources.ResourceError
			if e := res.Entries[1]; !errors.As(e.Err, &rerr) {
				t.Errorf("invalid POST: %v, want a ResourceError", e.Err)
			}
			if e := res.Entries[2]; !errors.Is(e.Err, kit.ErrNotFound) {
				t.Errorf("GET of a missing resource: %v", e.Err)
			}
			var qerr *resources.QueryError
			if e := res.Entries[3]; !errors.As(e.Err, &qerr) {
				t.Errorf("unknown method: %v", e.Err)
			}
			if e := res.Entries[4]; e.Err != nil || e.Status != http.StatusCreated {
				t.Errorf("PUT creating an id: %d %v", e.Status, e.Err)
			}
			for i, e := range res.Entries[5:] {
				if !errors.As(e.Err, &qerr) {
					t.Errorf("entry %d with a url that cannot be run: %v, want a QueryError", 5+i, e.Err)
				}
			}
			if n := count(t, ten, "Patient"); n != 2 {
				t.Errorf("%d Patients, want the two good entries'", n)
			}
		})
	}
}

// TestBundleUnderPolicy: a transaction touching a type the policy does not
// let the member write is refused whole; a batch refuses that entry alone.
func TestBundleUnderPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			full := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			pol, err := full.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Patients only", Rules: []resources.PolicyRule{
				{ResourceType: "Patient"}, {ResourceType: "Observation", ReadOnly: true},
				{ResourceType: "Encounter", Criteria: "Encounter?status=finished"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			nurse := full.WithPolicy(&pol)
			const pat = "urn:uuid:77777777-7777-4777-8777-777777777777"
			entries := []string{
				post(pat, `{"resourceType":"Patient"}`),
				post("urn:uuid:2", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"`+pat+`"}}`),
			}
			_, err = nurse.ProcessBundle(ctx, txBundle("transaction", entries...))
			if ee := entryError(t, err); ee.Index != 1 || !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("transaction with a read-only type: entry %d, %v", ee.Index, err)
			}
			if n := count(t, full, "Patient"); n != 0 {
				t.Errorf("%d Patients written by the refused transaction", n)
			}
			res, err := nurse.ProcessBundle(ctx, txBundle("batch", entries...))
			if err != nil || res.Entries[0].Status != http.StatusCreated || !errors.Is(res.Entries[1].Err, kit.ErrForbidden) {
				t.Errorf("batch: %+v %v", res, err)
			}
			// Criteria: a write outside them is refused, inside them passes.
			_, err = nurse.ProcessBundle(ctx, txBundle("transaction",
				post("urn:uuid:3", `{"resourceType":"Encounter","status":"planned","class":{"code":"AMB"}}`)))
			if !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("an Encounter outside the criteria: %v", err)
			}
			if _, err = nurse.ProcessBundle(ctx, txBundle("transaction",
				post("urn:uuid:3", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"}}`))); err != nil {
				t.Errorf("an Encounter inside the criteria: %v", err)
			}
		})
	}
}

// TestBundleIsolation: a conditional entry never matches another project's
// resource, and with checkReferencesOnWrite a reference to one is refused
// as it is in a single write.
func TestBundleIsolation(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			mine := testdb.ProjectStore(t, sys, "ada@example.org")
			theirs := testdb.ProjectStore(t, sys, "bob@example.org")
			other := testdb.MustCreate(t, theirs, `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`)

			res, err := mine.ProcessBundle(ctx, txBundle("transaction",
				`{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]},
					"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|42"}}`,
				`{"resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}],"active":true},
					"request":{"method":"PUT","url":"Patient?identifier=urn:mrn|42&_id=`+other.ID+`"}}`))
			if err != nil {
				t.Fatal(err)
			}
			if e := res.Entries[0]; e.Status != http.StatusCreated || e.Resource.ID == other.ID {
				t.Errorf("ifNoneExist matched across projects: %+v", e)
			}
			if e := res.Entries[1]; e.Status != http.StatusCreated || e.Resource.ID == other.ID {
				t.Errorf("conditional update matched across projects: %+v", e)
			}
			if r, err := theirs.ReadResource(ctx, "Patient", other.ID); err != nil || r.VersionID != "1" {
				t.Errorf("the other project's Patient: %v %v", r.VersionID, err)
			}
			// A conditional reference cannot find the other project's either.
			_, err = mine.ProcessBundle(ctx, txBundle("transaction",
				post("urn:uuid:1", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"Patient?_id=`+other.ID+`"}}`)))
			if !errors.Is(err, resources.ErrPreconditionFailed) {
				t.Errorf("conditional reference to another project's Patient: %v", err)
			}

			p, err := mine.Project(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := mine.UpdateSettings(ctx, audit.Actor{}, projects.SettingsUpdate{Name: p.Name, StrictMode: p.StrictMode, CheckReferencesOnWrite: true, Version: p.Version}, false); err != nil {
				t.Fatal(err)
			}
			const pat = "urn:uuid:88888888-8888-4888-8888-888888888888"
			_, err = mine.ProcessBundle(ctx, txBundle("transaction",
				post(pat, `{"resourceType":"Patient"}`),
				post("urn:uuid:2", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"`+pat+`"}}`),
				post("urn:uuid:3", `{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"Patient/`+other.ID+`"}}`)))
			var rerr *resources.ResourceError
			if ee := entryError(t, err); ee.Index != 2 || !errors.As(err, &rerr) || !strings.Contains(err.Error(), "not found in this project") {
				t.Errorf("reference to another project's Patient: entry %d, %v", ee.Index, err)
			}
			if n := count(t, mine, "Observation"); n != 0 {
				t.Errorf("%d Observations written by the refused transaction", n)
			}
		})
	}
}

func TestTransactionSyntheaAndLimits(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			bundle := testdb.SyntheaBundle(1, 25)
			res, err := ten.ProcessBundle(ctx, bundle)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Entries) < 250 {
				t.Fatalf("%d entries: the fixture should be about 300", len(res.Entries))
			}
			for i, e := range res.Entries {
				if e.Status != http.StatusCreated {
					t.Errorf("entry %d: %d", i, e.Status)
				}
			}
			if n := count(t, ten, "Observation"); n != 125 {
				t.Errorf("%d Observations, want 125", n)
			}
			// A second patient shares the Organization and Practitioner.
			res, err = ten.ProcessBundle(ctx, testdb.SyntheaBundle(2, 3))
			if err != nil {
				t.Fatal(err)
			}
			if res.Entries[0].Status != http.StatusOK || res.Entries[1].Status != http.StatusOK {
				t.Errorf("the shared Organization and Practitioner: %d %d, want 200 (matched)", res.Entries[0].Status, res.Entries[1].Status)
			}
			if n := count(t, ten, "Organization"); n != 1 {
				t.Errorf("%d Organizations, want 1", n)
			}
			var rerr *resources.ResourceError
			if _, err := ten.ProcessBundle(ctx, testdb.PatientsBundle(resources.MaxBundleEntries+1)); !errors.As(err, &rerr) ||
				!strings.Contains(err.Error(), "at most") {
				t.Errorf("too many entries: %v", err)
			}
		})
	}
}

// statementLog counts the statements GORM runs and those sent through pgx.
type statementLog struct {
	mu sync.Mutex
	n  int
}

func (l *statementLog) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *statementLog) Info(context.Context, string, ...any)     {}
func (l *statementLog) Warn(context.Context, string, ...any)     {}
func (l *statementLog) Error(context.Context, string, ...any)    {}
func (l *statementLog) Trace(ctx context.Context, _ time.Time, _ func() (string, int64), _ error) {
	l.add(ctx, "")
}

func (l *statementLog) add(context.Context, string) {
	l.mu.Lock()
	l.n++
	l.mu.Unlock()
}

func (l *statementLog) take() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.n
	l.n = 0
	return n
}

// TestTransactionIsSetBased: the statements of a transaction of new
// resources do not grow with its entries on PostgreSQL, and grow by one
// multi-row INSERT per few hundred rows on SQLite.
func TestTransactionIsSetBased(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			log := &statementLog{}
			t.Cleanup(resources.WatchPipelines(log.add))
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB.Session(&gorm.Session{Logger: log})), "ada@example.org")
			statements := func(kind string, n int) int {
				body := testdb.PatientsBundle(n)
				if kind == "PUT" {
					body = putPatients(fmt.Sprint("put", n), n)
				}
				log.take()
				if _, err := ten.ProcessBundle(ctx, body); err != nil {
					t.Fatal(err)
				}
				return log.take()
			}
			for _, kind := range []string{"POST", "PUT"} {
				few, many := statements(kind, 10), statements(kind, 400)
				if db.Name == "postgres" && few != many {
					t.Errorf("%s of 10 Patients took %d statements, 400 took %d: want the same", kind, few, many)
				}
				if many > few+40 {
					t.Errorf("%s of 10 Patients took %d statements, 400 took %d: want a few more at most", kind, few, many)
				}
				t.Logf("%s: %d statements for 10 Patients, %d for 400", kind, few, many)
			}
			// The PUTs created their ids; PUT again, they are updated.
			res, err := ten.ProcessBundle(ctx, putPatients("put10", 3))
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range res.Entries {
				if e.Status != http.StatusOK || e.Resource.VersionID != "2" || e.Resource.ID != fmt.Sprintf("put10-%d", i) {
					t.Errorf("PUT of an id in use: %d %s/%s", e.Status, e.Resource.ID, e.Resource.VersionID)
				}
			}
		})
	}
}

// putPatients is a transaction of n PUTs of Patients prefix-0, prefix-1, ...
func putPatients(prefix string, n int) []byte {
	entries := make([]string, n)
	for i := range entries {
		id := fmt.Sprintf("%s-%d", prefix, i)
		entries[i] = `{"resource":{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Put"}]},"request":{"method":"PUT","url":"Patient/` + id + `"}}`
	}
	return txBundle("transaction", entries...)
}

// TestTransactionSearchEntry: a transaction's GET search is shaped by
// _elements as any search is; _include, which would read outside the
// transaction, is refused before anything is written.
func TestTransactionSearchEntry(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "ada@example.org")
			ada := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Lovelace"}],"gender":"female"}`).ID
			res, err := ten.ProcessBundle(ctx, txBundle("transaction",
				`{"request":{"method":"GET","url":"Patient?_id=`+ada+`&_elements=gender"}}`))
			if err != nil {
				t.Fatal(err)
			}
			s := res.Entries[0].Search
			if s == nil || len(s.Resources) != 1 {
				t.Fatalf("GET search: %+v", s)
			}
			if got := string(s.Resources[0].JSON); strings.Contains(got, "Lovelace") || !strings.Contains(got, `"gender":"female"`) || !strings.Contains(got, "SUBSETTED") {
				t.Errorf("_elements=gender in a transaction: %s", got)
			}
			_, err = ten.ProcessBundle(ctx, txBundle("transaction",
				`{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}}`,
				`{"request":{"method":"GET","url":"Patient?_id=`+ada+`&_revinclude=Observation:subject"}}`))
			var qe *resources.QueryError
			if ee := entryError(t, err); ee.Index != 1 || !errors.As(ee.Err, &qe) {
				t.Errorf("_revinclude in a transaction: %v, want a QueryError for entry 1", err)
			}
			if n := count(t, ten, "Patient"); n != 1 {
				t.Errorf("%d patients after the refused transaction, want 1", n)
			}
		})
	}
}
