package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"enclave/models/resources"
	"enclave/models/testdb"
	"enclave/web/webtest"
)

// bundleOf is a Bundle of type kind with the given entries (JSON objects).
func bundleOf(kind string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + kind + `","entry":[` + strings.Join(entries, ",") + `]}`
}

// responses are the response elements of a Bundle answer's entries.
func responses(t *testing.T, r *webtest.Response) (entries []map[string]any, resp []map[string]any) {
	t.Helper()
	m := r.JSON()
	list, _ := m["entry"].([]any)
	for _, e := range list {
		e, _ := e.(map[string]any)
		rs, _ := e["response"].(map[string]any)
		entries = append(entries, e)
		resp = append(resp, rs)
	}
	return entries, resp
}

// patientTotal is how many Patients c's search counts.
func patientTotal(t *testing.T, c *webtest.Client) string {
	t.Helper()
	return fieldAt(c.For(t).API(http.MethodGet, "/fhir/R4/Patient?_total=accurate", "").Status(http.StatusOK).JSON(), "total")
}

func TestFHIRBundles(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAPIEnv(t, db)
			ada, bob := e.ada, e.bob
			const pat = "urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b"
			patient := `{"fullUrl":"` + pat + `","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"1"}]},
				"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|1"}}`
			obs := `{"resource":{"resourceType":"Observation","status":"final","code":{"text":"pulse"},"subject":{"reference":"` + pat + `"}},
				"request":{"method":"POST","url":"Observation"}}`

			t.Run("transaction with a urn:uuid reference", func(t *testing.T) {
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", patient, obs)).Status(http.StatusOK)
				if got := fieldAt(r.JSON(), "type"); got != "transaction-response" {
					t.Errorf("type %q", got)
				}
				entries, resp := responses(t, r)
				if len(resp) != 2 || resp[0]["status"] != "201 Created" || resp[1]["status"] != "201 Created" {
					t.Fatalf("responses %v", resp)
				}
				id := fieldAt(entries[0], "resource.id")
				if resp[0]["location"] != "Patient/"+id+"/_history/1" || resp[0]["etag"] != `W/"1"` || resp[0]["lastModified"] == nil {
					t.Errorf("response %v: want location, etag and lastModified of Patient/%s", resp[0], id)
				}
				if !strings.HasSuffix(fieldAt(entries[0], "fullUrl"), "/fhir/R4/Patient/"+id) {
					t.Errorf("fullUrl %q", fieldAt(entries[0], "fullUrl"))
				}
				obsID := fieldAt(entries[1], "resource.id")
				got := ada.For(t).API(http.MethodGet, "/fhir/R4/Observation/"+obsID, "").Status(http.StatusOK).JSON()
				if ref := fieldAt(got, "subject.reference"); ref != "Patient/"+id {
					t.Errorf("stored subject %q, want Patient/%s", ref, id)
				}
			})
			t.Run("Prefer return=minimal leaves the resources out", func(t *testing.T) {
				fresh := `{"resource":{"resourceType":"Patient","gender":"other"},"request":{"method":"POST","url":"Patient"}}`
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("batch", fresh), "Prefer", "return=minimal").Status(http.StatusOK)
				entries, resp := responses(t, r)
				loc, _ := resp[0]["location"].(string)
				if len(entries) != 1 || entries[0]["resource"] != nil || resp[0]["status"] != "201 Created" || loc == "" {
					t.Fatalf("entries %v", entries)
				}
				// Gone again, for the counts below.
				ada.For(t).API(http.MethodDelete, "/fhir/R4/"+strings.TrimSuffix(loc, "/_history/1"), "").Status(http.StatusOK)
			})
			t.Run("ifNoneExist with a match answers it, 200", func(t *testing.T) {
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", patient)).Status(http.StatusOK)
				if _, resp := responses(t, r); resp[0]["status"] != "200 OK" {
					t.Errorf("responses %v", resp)
				}
				if n := patientTotal(t, ada); n != "1" {
					t.Errorf("%s Patients, want 1", n)
				}
			})
			t.Run("a failing entry refuses the whole transaction", func(t *testing.T) {
				bad := `{"resource":{"resourceType":"Observation","status":5},"request":{"method":"POST","url":"Observation"}}`
				fresh := `{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}`
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", fresh, bad)).Status(http.StatusBadRequest)
				if text := outcomeText(t, r); !strings.Contains(text, "Bundle.entry[1]") {
					t.Errorf("outcome %q does not name the entry", text)
				}
				if n := patientTotal(t, ada); n != "1" {
					t.Errorf("%s Patients after the refusal, want 1", n)
				}
				missing := `{"request":{"method":"DELETE","url":"Patient/nobody"}}`
				r = ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", fresh, missing)).Status(http.StatusNotFound)
				if text := outcomeText(t, r); !strings.Contains(text, "Bundle.entry[1]") {
					t.Errorf("outcome %q does not name the entry", text)
				}
			})
			t.Run("batch entries answer one by one", func(t *testing.T) {
				bad := `{"resource":{"resourceType":"Observation","status":5},"request":{"method":"POST","url":"Observation"}}`
				missing := `{"request":{"method":"GET","url":"Patient/nobody"}}`
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("batch", obs, bad, missing)).Status(http.StatusOK)
				if got := fieldAt(r.JSON(), "type"); got != "batch-response" {
					t.Errorf("type %q", got)
				}
				_, resp := responses(t, r)
				if len(resp) != 3 || resp[0]["status"] != "201 Created" || resp[1]["status"] != "400 Bad Request" || resp[2]["status"] != "404 Not Found" {
					t.Fatalf("responses %v", resp)
				}
				if oo, _ := resp[1]["outcome"].(map[string]any); oo["resourceType"] != "OperationOutcome" {
					t.Errorf("failed entry's outcome %v", resp[1]["outcome"])
				}
			})
			t.Run("a batch search entry answers its matches and includes", func(t *testing.T) {
				search := `{"request":{"method":"GET","url":"Patient?identifier=urn:mrn|1&_revinclude=Observation:subject"}}`
				entries, resp := responses(t, ada.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("batch", search)).Status(http.StatusOK))
				if len(resp) != 1 || resp[0]["status"] != "200 OK" {
					t.Fatalf("responses %v", resp)
				}
				set, _ := entries[0]["resource"].(map[string]any)
				found, _ := set["entry"].([]any)
				var modes []string
				for _, f := range found {
					f, _ := f.(map[string]any)
					modes = append(modes, fieldAt(f, "resource.resourceType")+" "+fieldAt(f, "search.mode"))
				}
				if strings.Join(modes, ", ") != "Patient match, Observation include" {
					t.Errorf("searchset entries %v, want the Patient and its Observation", modes)
				}
			})
			t.Run("another project's resources are out of reach", func(t *testing.T) {
				r := bob.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", patient)).Status(http.StatusOK)
				if _, resp := responses(t, r); resp[0]["status"] != "201 Created" {
					t.Errorf("Bob's ifNoneExist matched Ada's Patient: %v", resp)
				}
				if n := patientTotal(t, ada); n != "1" {
					t.Errorf("Ada has %s Patients, want 1", n)
				}
			})
			t.Run("limits", func(t *testing.T) {
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", string(testdb.PatientsBundle(resources.MaxBundleEntries+1))).Status(http.StatusBadRequest)
				if text := outcomeText(t, r); !strings.Contains(text, "at most 10000 entries") {
					t.Errorf("too many entries: %q", text)
				}
				huge := bundleOf("transaction", `{"resource":{"resourceType":"Patient","text":{"status":"generated","div":"`+strings.Repeat("x", 33<<20)+`"}},"request":{"method":"POST","url":"Patient"}}`)
				ada.For(t).API(http.MethodPost, "/fhir/R4", huge).Status(http.StatusRequestEntityTooLarge)
				r = ada.For(t).API(http.MethodPost, "/fhir/R4", `{"resourceType":"Bundle","type":"document"}`).Status(http.StatusBadRequest)
				if text := outcomeText(t, r); !strings.Contains(text, "transaction") {
					t.Errorf("a document Bundle: %q", text)
				}
				ada.For(t).API(http.MethodPut, "/fhir/R4", "{}").Status(http.StatusMethodNotAllowed)
			})
			t.Run("a Synthea patient file loads in one request", func(t *testing.T) {
				r := ada.For(t).API(http.MethodPost, "/fhir/R4", string(testdb.SyntheaBundle(7, 25))).Status(http.StatusOK)
				_, resp := responses(t, r)
				for i, rs := range resp {
					if rs["status"] != "201 Created" {
						t.Errorf("entry %d: %v", i, rs["status"])
					}
				}
				if len(resp) < 250 {
					t.Errorf("%d entries answered", len(resp))
				}
			})
			t.Run("the CapabilityStatement lists them", func(t *testing.T) {
				r := e.anon.For(t).API(http.MethodGet, "/fhir/R4/metadata", "").Status(http.StatusOK)
				if !strings.Contains(r.Body, `"interaction":[{"code":"transaction"},{"code":"batch"},`) {
					t.Errorf("CapabilityStatement lacks transaction and batch")
				}
			})
		})
	}
}

// TestFHIRBundleUnderPolicy: a transaction touching a type the member may
// not write is refused whole, 403; a batch refuses that entry alone.
func TestFHIRBundleUnderPolicy(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			admin, project := app.SignUp("admin@example.org", "Clinic")
			admin.Header("X-Enclave-Project", project)
			nurse, _ := policyMember(t, app, project, "nurse@example.org", resources.PolicyRule{ResourceType: "Observation"},
				resources.PolicyRule{ResourceType: "Patient", ReadOnly: true})
			nurse.Header("X-Enclave-Project", project)
			obs := `{"resource":{"resourceType":"Observation","status":"final","code":{"text":"t"}},"request":{"method":"POST","url":"Observation"}}`
			pat := `{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}`
			r := nurse.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("transaction", obs, pat)).Status(http.StatusForbidden)
			if text := outcomeText(t, r); !strings.Contains(text, "Bundle.entry[1]") || !strings.Contains(text, "read-only") {
				t.Errorf("outcome %q", text)
			}
			if n := fieldAt(admin.For(t).API(http.MethodGet, "/fhir/R4/Observation?_total=accurate", "").Status(http.StatusOK).JSON(), "total"); n != "0" {
				t.Errorf("%s Observations written by the refused transaction", n)
			}
			r = nurse.For(t).API(http.MethodPost, "/fhir/R4", bundleOf("batch", obs, pat)).Status(http.StatusOK)
			if _, resp := responses(t, r); resp[0]["status"] != "201 Created" || resp[1]["status"] != "403 Forbidden" {
				t.Errorf("batch responses %v", resp)
			}
		})
	}
}

// bundleSeeds are Bundles that once could, or might, make the server fail.
var bundleSeeds = func() []string {
	out := []string{
		`{"resourceType":"Bundle","type":"transaction"}`, `{"resourceType":"Bundle","type":"batch","entry":{}}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[null,1,"x",{}]}`,
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient?name=a%00b"}},{"request":{"method":"GET","url":"Patient?name=%ff"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/x/_history/99999999999999999999"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient","ifNoneExist":"name=%00"},"resource":{"resourceType":"Patient"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PATCH","url":"Patient/x"},"resource":{"resourceType":"Binary","contentType":"application/json-patch+json","data":"W3t9XQ=="}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"PUT","url":"Patient?_id=a"},"resource":{"resourceType":"Patient","id":"a\u0000"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Observation"},"resource":{"resourceType":"Observation","status":"final","code":{"text":"t"},"subject":{"reference":"Patient?name=%ff"}}}]}`,
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"DELETE","url":"StructureDefinition/x"}},{"request":{"method":"GET","url":"StructureDefinition?url=x"}}]}`,
	}
	for _, s := range fuzzSeeds {
		for _, kind := range []string{"transaction", "batch"} {
			out = append(out, bundleOf(kind, `{"fullUrl":"urn:uuid:1","resource":`+s.body+`,"request":{"method":"POST","url":"`+s.typ+`"}}`,
				`{"resource":`+s.body+`,"request":{"method":"PUT","url":"`+s.typ+`/fuzz-id"}}`))
		}
	}
	return out
}()

// FuzzBundle drives arbitrary Bundles through POST to the base: the answer
// is never a 500, and the server never panics.
func FuzzBundle(f *testing.F) {
	for _, seed := range bundleSeeds {
		f.Add([]byte(seed))
	}
	app := webtest.New(f, testdb.SQLite(f))
	client, project := app.SignUp("fuzz@example.org", "Fuzz")
	client.Header("X-Enclave-Project", project)
	f.Fuzz(func(t *testing.T, body []byte) {
		if r := client.For(t).API(http.MethodPost, "/fhir/R4", string(body)); r.Resp.StatusCode >= 500 || r.Body == "" {
			t.Fatalf("%q: status %d\n%s", body, r.Resp.StatusCode, clipped(r.Body))
		}
	})
}

// TestBundleFuzzSeedsOnBothDatabases runs FuzzBundle's seeds on both
// databases: PostgreSQL refuses NUL and invalid UTF-8 where SQLite stores
// them.
func TestBundleFuzzSeedsOnBothDatabases(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			app := webtest.New(t, db)
			client, project := app.SignUp("seeds@example.org", "Seeds")
			client.Header("X-Enclave-Project", project)
			for _, seed := range bundleSeeds {
				if r := client.For(t).API(http.MethodPost, "/fhir/R4", seed); r.Resp.StatusCode >= 500 || r.Body == "" {
					t.Errorf("%q: status %d\n%s", seed, r.Resp.StatusCode, clipped(r.Body))
				}
			}
		})
	}
}

// BenchmarkAPITransaction posts transaction Bundles through the whole HTTP
// stack: 1,000 Patients, and a Synthea-like patient file of about 300
// entries (the models package's BenchmarkTransaction* measure the store
// alone).
func BenchmarkAPITransaction(b *testing.B) {
	for _, db := range testdb.All(b) {
		app := webtest.New(b, db)
		client, project := app.SignUp("bench@example.org", "Bench")
		cookie := &http.Cookie{Name: "enclave_session", Value: client.Cookie("enclave_session")}
		for name, bundle := range map[string]func(i int) []byte{
			"1000Patients": func(int) []byte { return testdb.PatientsBundle(1000) },
			"Synthea":      func(i int) []byte { return testdb.SyntheaBundle(i, 25) },
		} {
			b.Run(db.Name+"/"+name, func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					body := bundle(i)
					b.StartTimer()
					r := httptest.NewRequest(http.MethodPost, "/fhir/R4", bytes.NewReader(body))
					r.Header.Set("Content-Type", "application/fhir+json")
					r.Header.Set("X-Enclave-Project", project)
					r.AddCookie(cookie)
					w := httptest.NewRecorder()
					app.Server.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, clipped(w.Body.String()))
					}
				}
			})
		}
	}
}
