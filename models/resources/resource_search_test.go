package resources_test

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"

	"gorm.io/gorm"
)

// searchData is a small population; tests refer to resources by their key.
var searchData = []struct{ key, body string }{
	{"ada", `{"resourceType":"Patient","name":[{"family":"Lovelace","given":["Ada"]}],"gender":"female","birthDate":"1815-12-10",
		"identifier":[{"system":"urn:ssn","value":"111"}],"address":[{"city":"London"}],"managingOrganization":{"reference":"Organization/org1"}}`},
	{"charles", `{"resourceType":"Patient","name":[{"family":"Babbage","given":["Charles"]}],"gender":"male","birthDate":"1791-12-26",
		"identifier":[{"system":"urn:ssn","value":"222"},{"system":"urn:other","value":"111"}],"address":[{"city":"Teignmouth"}]}`},
	{"emile", `{"resourceType":"Patient","name":[{"family":"Émile","given":["Zoë"]}],"gender":"other","birthDate":"1990-05",
		"address":[{"line":["1 Rue de la Paix"],"city":"Paris"}],"managingOrganization":{"reference":"Organization/org2"}}`},
	{"nobody", `{"resourceType":"Patient","gender":"unknown"}`},
	{"percent", `{"resourceType":"Patient","name":[{"family":"50%_off"}]}`},
	{"obs1", `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},
		"subject":{"reference":"Patient/p-ada"},"effectiveDateTime":"2024-03-01T10:00:00Z"}`},
	{"obs2", `{"resourceType":"Observation","status":"preliminary","code":{"coding":[{"system":"http://snomed.info/sct","code":"8867-4"}]},
		"subject":{"reference":"Patient/p-charles"},"effectivePeriod":{"start":"2024-02-01","end":"2024-04-01"}}`},
}

func TestSearch(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			if err := sys.SetProjectFlags(ctx, mustProject(t, sys), false, false); err != nil {
				t.Fatal(err)
			}
			ten := testdb.ProjectStore(t, sys, "searcher@example.org")
			byID := map[string]string{}
			for _, d := range searchData {
				r := testdb.MustCreate(t, ten, d.body)
				byID[r.ID] = d.key
			}
			cases := []struct {
				typ, query string
				want       []string // keys, in result order when ordered
				ordered    bool
			}{
				{"Patient", "", []string{"ada", "charles", "emile", "nobody", "percent"}, true},
				{"Patient", "family=love", []string{"ada"}, false},
				{"Patient", "family=LOVE", []string{"ada"}, false},
				{"Patient", "family=emile", []string{"emile"}, false},
				{"Patient", "family:exact=Lovelace", []string{"ada"}, false},
				{"Patient", "family:exact=lovelace", nil, false},
				{"Patient", "family:exact=love", nil, false},
				{"Patient", "family:contains=bba", []string{"charles"}, false},
				{"Patient", "family:contains=%25", []string{"percent"}, false},
				{"Patient", "family=50%25_", []string{"percent"}, false},
				{"Patient", "family=_", nil, false},
				{"Patient", "given=zoe", []string{"emile"}, false},
				{"Patient", "name=ada,charles", []string{"ada", "charles"}, false},
				{"Patient", "name=a&name=lovelace", []string{"ada"}, false},
				{"Patient", "address=paris", []string{"emile"}, false},
				{"Patient", "address:contains=paix", []string{"emile"}, false},
				{"Patient", "gender=female", []string{"ada"}, false},
				{"Patient", "gender=male,other", []string{"charles", "emile"}, false},
				{"Patient", "identifier=111", []string{"ada", "charles"}, false},
				{"Patient", "identifier=urn:ssn|111", []string{"ada"}, false},
				{"Patient", "identifier=urn:other|", []string{"charles"}, false},
				{"Patient", "identifier=|111", nil, false},
				{"Patient", "birthdate=1815", []string{"ada"}, false},
				{"Patient", "birthdate=1815-12-10", []string{"ada"}, false},
				{"Patient", "birthdate=eq1815-12", []string{"ada"}, false},
				{"Patient", "birthdate=lt1800", []string{"charles"}, false},
				{"Patient", "birthdate=le1791-12-26", []string{"charles"}, false},
				{"Patient", "birthdate=gt1815-12-10", []string{"emile"}, false},
				{"Patient", "birthdate=ge1815-12-10", []string{"ada", "emile"}, false},
				{"Patient", "birthdate=ne1815-12-10", []string{"charles", "emile"}, false},
				{"Patient", "birthdate=1990-05-12", nil, false},
				{"Patient", "birthdate=ge1800&birthdate=lt1900", []string{"ada"}, false},
				{"Patient", "organization=Organization/org1", []string{"ada"}, false},
				{"Patient", "organization=org2", []string{"emile"}, false},
				{"Patient", "organization:Organization=org2", []string{"emile"}, false},
				{"Observation", "subject=Patient/p-ada", []string{"obs1"}, false},
				{"Observation", "patient=p-charles", []string{"obs2"}, false},
				{"Observation", "code=8867-4", []string{"obs1", "obs2"}, false},
				{"Observation", "code=http://loinc.org|8867-4", []string{"obs1"}, false},
				{"Observation", "status=final", []string{"obs1"}, false},
				{"Observation", "date=2024-03", []string{"obs1"}, false},
				{"Observation", "date=ge2024-03-15", []string{"obs2"}, false},
				{"Observation", "date=lt2024-02-15", []string{"obs2"}, false},
				{"Observation", "date=sa2024-02-15", []string{"obs1"}, false},
				{"Observation", "date=eb2024-03-15", []string{"obs1"}, false},
				{"Observation", "date=eb2024-03-01", nil, false},
				{"Patient", "birthdate=sa1815", []string{"emile"}, false},
				{"Patient", "birthdate=eb1815-12-10", []string{"charles"}, false},
				{"Patient", "_sort=family", []string{"percent", "charles", "emile", "ada", "nobody"}, true},
				{"Patient", "_sort=-family", []string{"ada", "emile", "charles", "percent", "nobody"}, true},
				{"Patient", "_sort=birthdate", []string{"charles", "ada", "emile", "nobody", "percent"}, true},
				{"Patient", "_sort=-birthdate", []string{"emile", "ada", "charles", "nobody", "percent"}, true},
				{"Patient", "_sort=-_lastUpdated", []string{"percent", "nobody", "emile", "charles", "ada"}, true},
				{"Patient", "gender=female,male&_sort=gender", []string{"ada", "charles"}, true},
				// Pages read from one filter's index come in last-update order.
				{"Patient", "gender=male,other,unknown", []string{"charles", "emile", "nobody"}, true},
				{"Patient", "birthdate=gt1700&_sort=-_lastUpdated", []string{"emile", "charles", "ada"}, true},
				{"Patient", "identifier=111&_sort=_lastUpdated", []string{"ada", "charles"}, true},
				{"Patient", "name=a,b&gender=female,male,other", []string{"ada", "charles"}, true},
				{"Patient", "_id=nope&gender=female", nil, false},
			}
			for _, c := range cases {
				t.Run(c.typ+"?"+c.query, func(t *testing.T) {
					v, _ := url.ParseQuery(c.query)
					q, err := resources.ParseSearch(c.typ, v, false)
					if err != nil {
						t.Fatal(err)
					}
					res, err := ten.Search(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, r := range res.Resources {
						got = append(got, byID[r.ID])
					}
					want := slices.Clone(c.want)
					if !c.ordered {
						slices.Sort(got)
						slices.Sort(want)
					}
					if !slices.Equal(got, want) || res.Total != len(want) {
						t.Errorf("got %v (total %d), want %v", got, res.Total, want)
					}
				})
			}

			// Without _total a page is not counted: it only says whether
			// another follows. The last page knows the total for free.
			page := func(params url.Values) resources.SearchResult {
				t.Helper()
				q, err := resources.ParseSearch("Patient", params, false)
				if err != nil {
					t.Fatal(err)
				}
				res, err := ten.Search(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			res := page(url.Values{"_sort": {"family"}, "_count": {"2"}, "_offset": {"2"}})
			if res.Counted || !res.More || len(res.Resources) != 2 || byID[res.Resources[0].ID] != "emile" {
				t.Errorf("page 2 of 3: counted %v, more %v, %d resources", res.Counted, res.More, len(res.Resources))
			}
			res = page(url.Values{"_sort": {"family"}, "_count": {"2"}, "_offset": {"4"}})
			if !res.Counted || res.Total != 5 || res.More || len(res.Resources) != 1 {
				t.Errorf("last page: counted %v, total %d, more %v, %d resources", res.Counted, res.Total, res.More, len(res.Resources))
			}
			// Pages of a search read from an index neither overlap nor skip.
			var walked []string
			for off := 0; off < 4; off++ {
				res = page(url.Values{"birthdate": {"gt1700"}, "_count": {"1"}, "_offset": {strconv.Itoa(off)}})
				for _, r := range res.Resources {
					walked = append(walked, byID[r.ID])
				}
			}
			if want := []string{"ada", "charles", "emile"}; !slices.Equal(walked, want) {
				t.Errorf("birthdate=gt1700 one by one: %v, want %v", walked, want)
			}
			for _, total := range []string{resources.TotalAccurate, resources.TotalEstimate} {
				res = page(url.Values{"_count": {"2"}, "_total": {total}})
				if !res.Counted || res.Total != 5 || !res.More || len(res.Resources) != 2 {
					t.Errorf("_total=%s: counted %v, total %d, more %v, %d resources", total, res.Counted, res.Total, res.More, len(res.Resources))
				}
			}
			res = page(url.Values{"_count": {"0"}, "_total": {"accurate"}, "gender": {"female,male,other"}})
			if !res.Counted || res.Total != 3 || len(res.Resources) != 0 {
				t.Errorf("_count=0&_total=accurate: total %d with %d resources, want 3 and none", res.Total, len(res.Resources))
			}
			res = page(url.Values{"_count": {"0"}})
			if res.Counted || len(res.Resources) != 0 {
				t.Errorf("_count=0 alone: counted %v with %d resources, want neither", res.Counted, len(res.Resources))
			}
			if _, err := resources.ParseSearch("Patient", url.Values{"_total": {"sometimes"}}, false); err == nil {
				t.Error("_total=sometimes accepted")
			}

			// Updates replace the index rows; deletion removes them.
			var adaID string
			for id, key := range byID {
				if key == "ada" {
					adaID = id
				}
			}
			if _, err := ten.UpdateResource(ctx, "Patient", adaID, []byte(`{"resourceType":"Patient","id":"`+adaID+`","name":[{"family":"King"}]}`), ""); err != nil {
				t.Fatal(err)
			}
			for query, want := range map[string]int{"family=lovelace": 0, "family=king": 1, "gender=female": 0} {
				v, err := url.ParseQuery(query)
				if err != nil {
					t.Fatal(err)
				}
				if res := page(v); len(res.Resources) != want {
					t.Errorf("after update, %s finds %d, want %d", query, len(res.Resources), want)
				}
			}
			if err := ten.DeleteResource(ctx, "Patient", adaID); err != nil {
				t.Fatal(err)
			}
			if res := page(url.Values{"family": {"king"}}); len(res.Resources) != 0 {
				t.Errorf("deleted resource still found")
			}
			if res := page(url.Values{"_id": {adaID}, "_total": {"accurate"}}); len(res.Resources) != 0 || res.Total != 0 {
				t.Errorf("deleted resource still found by _id")
			}
		})
	}
}

// mustProject makes a throwaway project and returns its id.
func mustProject(t *testing.T, sys models.System) string {
	return testdb.ProjectStore(t, sys, "throwaway@example.org").ProjectID()
}

func TestSearchLastUpdatedAndID(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "a@example.org")
			first := testdb.MustCreate(t, ten, `{"resourceType":"Patient"}`)
			second := testdb.MustCreate(t, ten, `{"resourceType":"Patient"}`)
			stamp := metaOf(t, first)["lastUpdated"].(string)
			for query, want := range map[string]int{
				"_lastUpdated=" + stamp:             1,
				"_lastUpdated=ge" + stamp:           2,
				"_lastUpdated=lt" + stamp:           0,
				"_lastUpdated=gt2000-01-01":         2,
				"_id=" + first.ID:                   1,
				"_id=" + first.ID + "," + second.ID: 2,
				"_id=unknown":                       0,
			} {
				v, err := url.ParseQuery(strings.ReplaceAll(query, "+", "%2B"))
				if err != nil {
					t.Fatal(err)
				}
				q, err := resources.ParseSearch("Patient", v, false)
				if err != nil {
					t.Fatal(err)
				}
				if res, err := ten.Search(ctx, q); err != nil {
					t.Errorf("%s: %v", query, err)
				} else if res.Total != want {
					t.Errorf("%s: %d results, want %d", query, res.Total, want)
				}
			}
		})
	}
}

func TestParseSearchRefusals(t *testing.T) {
	for _, query := range []string{
		"nickname=x", "family:below=x", "gender:exact=f", "birthdate=ap2000", "birthdate=yesterday",
		"_count=-1", "_count=ten", "_offset=x", "_sort=nickname", "_summary=maybe", "family=",
		"family:missing=maybe", "family:missing=true,false", "gender:not=", "general-practitioner.name=x",
		"organization:Patient.name=x", "organization.name.family=x", "_has:Observation:subject", "_has:Observation:code:code=x",
		"_has:Nothing:subject:code=x", "_has:Organization:partof:name=x",
	} {
		v, _ := url.ParseQuery(query)
		var qerr *resources.QueryError
		if _, err := resources.ParseSearch("Patient", v, false); !errors.As(err, &qerr) || qerr.Message == "" {
			t.Errorf("%s: %v, want a QueryError", query, err)
		}
	}
	v, _ := url.ParseQuery("nickname=x&family:below=true&family=a")
	q, err := resources.ParseSearch("Patient", v, true)
	if err != nil || len(q.Params) != 1 || q.Params.Get("family") != "a" {
		t.Errorf("lenient parse kept %v (%v), want only family", q.Params, err)
	}
	q, err = resources.ParseSearch("Patient", url.Values{"_count": {"5000"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if q.Count != resources.MaxSearchCount {
		t.Errorf("_count=5000 gives %d, want the maximum %d", q.Count, resources.MaxSearchCount)
	}
	if _, err := resources.ParseSearch("Nonsense", nil, false); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestConditionalCreate(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ten := testdb.ProjectStore(t, models.NewSystem(db.DB), "a@example.org")
			body := []byte(`{"resourceType":"Patient","identifier":[{"system":"urn:x","value":"1"}]}`)
			crit := url.Values{"identifier": {"urn:x|1"}}
			first, created, err := ten.CreateResourceIfNoneExist(ctx, "Patient", body, crit)
			if err != nil || !created {
				t.Fatalf("first conditional create: created=%v %v", created, err)
			}
			again, created, err := ten.CreateResourceIfNoneExist(ctx, "Patient", body, crit)
			if err != nil || created || again.ID != first.ID {
				t.Fatalf("second conditional create: created=%v id %s %v, want the first one", created, again.ID, err)
			}
			testdb.MustCreate(t, ten, string(body))
			if _, _, err := ten.CreateResourceIfNoneExist(ctx, "Patient", body, crit); !errors.Is(err, resources.ErrPreconditionFailed) {
				t.Errorf("with two matches: %v, want ErrPreconditionFailed", err)
			}
			var qerr *resources.QueryError
			if _, _, err := ten.CreateResourceIfNoneExist(ctx, "Patient", body, url.Values{"nickname": {"x"}}); !errors.As(err, &qerr) {
				t.Errorf("bad criteria: %v, want a QueryError", err)
			}
		})
	}
}

func TestSystemResources(t *testing.T) {
	ten := testdb.ProjectStore(t, models.NewSystem(testdb.SQLite(t).DB), "a@example.org")
	sd, err := ten.ReadResource(ctx, "StructureDefinition", "Patient")
	if err != nil || !strings.Contains(string(sd.JSON), `"StructureDefinition"`) {
		t.Fatalf("read StructureDefinition/Patient: %v", err)
	}
	if _, err := ten.ReadResource(ctx, "ValueSet", "no-such-set"); !errors.Is(err, kit.ErrNotFound) {
		t.Errorf("unknown ValueSet: %v", err)
	}
	q, err := resources.ParseSearch("StructureDefinition", url.Values{"name": {"patient"}, "_count": {"100"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ten.Search(ctx, q)
	if err != nil || res.Total == 0 {
		t.Fatalf("search StructureDefinition?name=patient: %d %v", res.Total, err)
	}
	for _, r := range res.Resources {
		if !strings.HasPrefix(strings.ToLower(r.ID), "patient") && !strings.Contains(strings.ToLower(string(r.JSON)), `"name":"patient`) {
			t.Errorf("unexpected match %s", r.ID)
		}
	}
	q, err = resources.ParseSearch("ValueSet", url.Values{"url": {"http://hl7.org/fhir/ValueSet/administrative-gender"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := ten.Search(ctx, q); err != nil || res.Total != 1 {
		t.Errorf("ValueSet by url: %d results, %v; want 1", res.Total, err)
	}
	if _, err := resources.ParseSearch("CodeSystem", url.Values{"status": {"active"}}, false); err == nil {
		t.Error("unsupported system search parameter accepted")
	}
}

// TestRowLevelSecurity shows the second wall: inside a tenant transaction of
// project B, SQL that forgets the project filter still sees nothing of A.
func TestRowLevelSecurity(t *testing.T) {
	db, ok := testdb.Postgres(t)
	if !ok {
		t.Skip("row-level security exists only on PostgreSQL")
	}
	sys := models.NewSystem(db.DB)
	a := testdb.ProjectStore(t, sys, "a@example.org")
	b := testdb.ProjectStore(t, sys, "b@example.org")
	testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
	testdb.MustCreate(t, a, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/1"}}`)
	testdb.MustCreate(t, b, `{"resourceType":"Patient","name":[{"family":"Beta"}]}`)

	tables := []string{"resources", "resource_history", "resource_strings", "resource_tokens", "resource_dates", "resource_references"}
	count := func(ten models.Tenant, table string) (n int64) {
		t.Helper()
		err := ten.InTenantTx(ctx, func(tx *gorm.DB) error {
			return tx.Raw(`SELECT COUNT(*) FROM `+table+` WHERE project_id = ?`, a.ProjectID()).Scan(&n).Error
		})
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		return n
	}
	for _, table := range tables {
		if n := count(a, table); n == 0 {
			t.Errorf("%s: project A sees none of its own rows", table)
		}
		if n := count(b, table); n != 0 {
			t.Errorf("%s: project B's transaction sees %d of A's rows", table, n)
		}
	}
	// No project filter at all: B sees exactly its own patient.
	var families []string
	err := b.InTenantTx(ctx, func(tx *gorm.DB) error {
		return tx.Raw(`SELECT value FROM resource_strings WHERE param = 'family' AND resource_type = 'Patient'`).Scan(&families).Error
	})
	if err != nil || !slices.Equal(families, []string{"beta"}) {
		t.Errorf("unfiltered SELECT in B's transaction: %v %v, want only [beta]", families, err)
	}
	// Writing a row for A from B's transaction is refused by the policy.
	err = b.InTenantTx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO resource_strings (project_id, resource_type, resource_id, param, value) VALUES (?, 'Patient', 'x', 'family', 'planted')`, a.ProjectID()).Error
	})
	if err == nil || !strings.Contains(err.Error(), "row-level security") {
		t.Errorf("insert of A's row from B's transaction: %v, want a row-level security refusal", err)
	}
	// Outside any tenant transaction the owner sees all rows: the wall is
	// the policy, not the query.
	var all int64
	if err := db.DB.Raw(`SELECT COUNT(*) FROM resources WHERE resource_type <> 'Practitioner'`).Scan(&all).Error; err != nil {
		t.Fatal(err)
	}
	if all != 3 {
		t.Errorf("superuser sees %d resources besides the members' profiles, want 3", all)
	}
}
