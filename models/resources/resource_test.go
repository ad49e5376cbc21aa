package resources_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

// decoded returns the JSON of r as a map.
func decoded(t *testing.T, r resources.Resource) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.JSON, &m); err != nil {
		t.Fatalf("stored JSON of %s/%s: %v", r.Type, r.ID, err)
	}
	return m
}

func metaOf(t *testing.T, r resources.Resource) map[string]any {
	m, _ := decoded(t, r)["meta"].(map[string]any)
	return m
}

func TestResourceLifecycle(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "ada@example.org")

			created := testdb.MustCreate(t, ten, `{"resourceType":"Patient","id":"client-chosen","meta":{"versionId":"77","project":"elsewhere","tag":[{"code":"t"}]},"name":[{"family":"Lovelace"}]}`)
			if created.ID == "client-chosen" || created.VersionID != "1" {
				t.Fatalf("created %s version %s: want a server id and version 1", created.ID, created.VersionID)
			}
			meta := metaOf(t, created)
			if meta["versionId"] != "1" || meta["project"] != ten.ProjectID() || meta["lastUpdated"] == nil {
				t.Errorf("meta = %v: want versionId 1, project %s, lastUpdated", meta, ten.ProjectID())
			}
			if tags, _ := meta["tag"].([]any); len(tags) != 1 {
				t.Errorf("client meta.tag lost: %v", meta)
			}

			read, err := ten.ReadResource(ctx, "Patient", created.ID)
			if err != nil || string(read.JSON) != string(created.JSON) || read.VersionID != "1" {
				t.Fatalf("read = %s %v; want the created JSON", read.JSON, err)
			}

			body := `{"resourceType":"Patient","id":"` + created.ID + `","name":[{"family":"Byron"}]}`
			if _, err := ten.UpdateResource(ctx, "Patient", created.ID, []byte(body), "5"); !errors.Is(err, resources.ErrPreconditionFailed) {
				t.Errorf("update with a stale If-Match: %v, want ErrPreconditionFailed", err)
			}
			v2, err := ten.UpdateResource(ctx, "Patient", created.ID, []byte(body), "1")
			if err != nil || v2.VersionID != "2" || !v2.LastUpdated.After(created.LastUpdated.Add(-1)) {
				t.Fatalf("update: %+v %v", v2, err)
			}
			v3, err := ten.UpdateResource(ctx, "Patient", created.ID, []byte(body), "")
			if err != nil || v3.VersionID != "3" {
				t.Fatalf("unconditional update: %v %v", v3.VersionID, err)
			}
			old, err := ten.ReadResourceVersion(ctx, "Patient", created.ID, "1")
			if err != nil || !strings.Contains(string(old.JSON), "Lovelace") {
				t.Errorf("vread 1 = %s %v, want the first version", old.JSON, err)
			}
			if _, err := ten.ReadResourceVersion(ctx, "Patient", created.ID, "9"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("vread 9: %v, want ErrNotFound", err)
			}

			wrongID := `{"resourceType":"Patient","id":"other","name":[{"family":"Byron"}]}`
			var rerr *resources.ResourceError
			if _, err := ten.UpdateResource(ctx, "Patient", created.ID, []byte(wrongID), ""); !errors.As(err, &rerr) {
				t.Errorf("update with another id in the body: %v, want a ResourceError", err)
			}
			if _, err := ten.UpdateResource(ctx, "Patient", "missing", []byte(strings.Replace(body, created.ID, "missing", 1)), ""); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("update of a missing id: %v, want ErrNotFound", err)
			}

			if err := ten.DeleteResource(ctx, "Patient", created.ID); err != nil {
				t.Fatal(err)
			}
			for name, err := range map[string]error{
				"read":   second(ten.ReadResource(ctx, "Patient", created.ID)),
				"vread":  second(ten.ReadResourceVersion(ctx, "Patient", created.ID, "4")),
				"update": second(ten.UpdateResource(ctx, "Patient", created.ID, []byte(body), "")),
				"delete": ten.DeleteResource(ctx, "Patient", created.ID),
			} {
				if !errors.Is(err, resources.ErrGone) {
					t.Errorf("%s after delete: %v, want ErrGone", name, err)
				}
			}
			if err := ten.DeleteResource(ctx, "Patient", "never-was"); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("delete of a missing id: %v, want ErrNotFound", err)
			}
			if _, err := ten.ReadResourceVersion(ctx, "Patient", created.ID, "2"); err != nil {
				t.Errorf("old versions stay readable after delete: %v", err)
			}

			h, err := ten.ResourceHistory(ctx, "Patient", created.ID, resources.Page{Count: 10})
			if err != nil || h.Total != 4 || len(h.Versions) != 4 {
				t.Fatalf("history: %+v %v, want 4 versions", h, err)
			}
			var versions []string
			for _, v := range h.Versions {
				versions = append(versions, v.VersionID)
			}
			if !slices.Equal(versions, []string{"4", "3", "2", "1"}) || !h.Versions[0].Deleted || h.Versions[1].Deleted {
				t.Errorf("history versions %v (first deleted: %v), want 4 3 2 1 with 4 the deletion", versions, h.Versions[0].Deleted)
			}
			page, err := ten.ResourceHistory(ctx, "Patient", created.ID, resources.Page{Count: 2, Offset: 2})
			if err != nil || len(page.Versions) != 2 || page.Versions[0].VersionID != "2" {
				t.Errorf("history page 2: %+v, %v", page.Versions, err)
			}
			testdb.MustCreate(t, ten, `{"resourceType":"Patient"}`)
			typeHistory, err := ten.ResourceHistory(ctx, "Patient", "", resources.Page{Count: 10})
			if err != nil || typeHistory.Total != 5 {
				t.Errorf("type history total %d %v, want 5", typeHistory.Total, err)
			}
			if _, err := ten.ResourceHistory(ctx, "Patient", "never-was", resources.Page{Count: 10}); !errors.Is(err, kit.ErrNotFound) {
				t.Errorf("history of a missing id: %v, want ErrNotFound", err)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestResourceIsolation(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			a := testdb.ProjectStore(t, sys, "a@example.org")
			b := testdb.ProjectStore(t, sys, "b@example.org")
			ra := testdb.MustCreate(t, a, `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
			rb := testdb.MustCreate(t, b, `{"resourceType":"Patient","name":[{"family":"Alpha"}]}`)
			for _, c := range []struct {
				from, to models.Tenant
				victim   resources.Resource
			}{{b, a, ra}, {a, b, rb}} {
				id := c.victim.ID
				body := []byte(`{"resourceType":"Patient","id":"` + id + `","name":[{"family":"Mallory"}]}`)
				for name, err := range map[string]error{
					"read":    second(c.from.ReadResource(ctx, "Patient", id)),
					"vread":   second(c.from.ReadResourceVersion(ctx, "Patient", id, "1")),
					"history": second(c.from.ResourceHistory(ctx, "Patient", id, resources.Page{Count: 5})),
					"update":  second(c.from.UpdateResource(ctx, "Patient", id, body, "")),
					"delete":  c.from.DeleteResource(ctx, "Patient", id),
				} {
					if !errors.Is(err, kit.ErrNotFound) {
						t.Errorf("%s of the other project's resource: %v, want ErrNotFound", name, err)
					}
				}
				q, err := resources.ParseSearch("Patient", url.Values{"_id": {id}}, false)
				if err != nil {
					t.Fatal(err)
				}
				res, err := c.from.Search(ctx, q)
				if err != nil || res.Total != 0 {
					t.Errorf("search by the other project's id: total %d %v", res.Total, err)
				}
				q, err = resources.ParseSearch("Patient", url.Values{"family": {"alpha"}}, false)
				if err != nil {
					t.Fatal(err)
				}
				res, err = c.from.Search(ctx, q)
				if err != nil || res.Total != 1 || res.Resources[0].ID == id {
					t.Errorf("search by name sees %d results, %v; want only its own", res.Total, err)
				}
				h, err := c.from.ResourceHistory(ctx, "Patient", "", resources.Page{Count: 5})
				if err != nil || h.Total != 1 {
					t.Errorf("type history sees %d versions, %v; want only its own 1", h.Total, err)
				}
				if got, err := c.to.ReadResource(ctx, "Patient", id); err != nil || !strings.Contains(string(got.JSON), "Alpha") {
					t.Errorf("owner's resource changed by the other project: %s %v", got.JSON, err)
				}
			}
		})
	}
}

func TestStrictModeAndReferenceChecks(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			a := testdb.ProjectStore(t, sys, "a@example.org")
			b := testdb.ProjectStore(t, sys, "b@example.org")
			ownOrg := testdb.MustCreate(t, a, `{"resourceType":"Organization","name":"Own"}`)
			otherOrg := testdb.MustCreate(t, b, `{"resourceType":"Organization","name":"Other"}`)
			deletedOrg := testdb.MustCreate(t, a, `{"resourceType":"Organization","name":"Gone"}`)
			if err := a.DeleteResource(ctx, "Organization", deletedOrg.ID); err != nil {
				t.Fatal(err)
			}
			unknownElement := `{"resourceType":"Patient","nickname":"Ada","birthDate":"1815-13-45"}`
			patientWith := func(org string) string {
				return `{"resourceType":"Patient","managingOrganization":{"reference":"Organization/` + org + `"}}`
			}
			cases := []struct {
				name             string
				strict, checkRef bool
				body             string
				wantExpressions  []string // nil: accepted
			}{
				{"strict refuses unknown elements and bad dates", true, false, unknownElement, []string{"Patient.birthDate", "Patient.nickname"}},
				{"lenient stores them", false, false, unknownElement, nil},
				{"lenient still needs a known resourceType", false, false, `{"resourceType":"Patient","id":"bad id!"}`, nil},
				{"dangling reference stored when not checked", true, false, patientWith("nope"), nil},
				{"dangling reference refused when checked", true, true, patientWith("nope"), []string{"Patient.managingOrganization"}},
				{"other project's resource refused when checked", true, true, patientWith(otherOrg.ID), []string{"Patient.managingOrganization"}},
				{"deleted resource refused when checked", true, true, patientWith(deletedOrg.ID), []string{"Patient.managingOrganization"}},
				{"own resource accepted when checked", true, true, patientWith(ownOrg.ID), nil},
				{"system resource accepted when checked", true, true,
					`{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/nope"},"basedOn":[{"reference":"StructureDefinition/Patient"}]}`,
					[]string{"Observation.subject"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					if err := sys.SetProjectFlags(ctx, a.ProjectID(), c.strict, c.checkRef); err != nil {
						t.Fatal(err)
					}
					_, err := a.CreateResource(ctx, strings.SplitN(strings.SplitN(c.body, `"resourceType":"`, 2)[1], `"`, 2)[0], []byte(c.body))
					var rerr *resources.ResourceError
					switch {
					case c.name == "lenient still needs a known resourceType":
						// Create ignores the client's id, so this one is accepted.
						if err != nil {
							t.Fatalf("got %v, want accepted", err)
						}
					case c.wantExpressions == nil && err != nil:
						t.Fatalf("got %v, want accepted", err)
					case c.wantExpressions != nil && !errors.As(err, &rerr):
						t.Fatalf("got %v, want a ResourceError", err)
					case c.wantExpressions != nil:
						var got []string
						for _, is := range rerr.Issues {
							got = append(got, is.Expression)
						}
						slices.Sort(got)
						if !slices.Equal(got, c.wantExpressions) {
							t.Errorf("issue locations %v, want %v (%v)", got, c.wantExpressions, err)
						}
						if c.checkRef && !strings.Contains(rerr.Issues[0].Message, "Organization/") && !strings.Contains(rerr.Issues[0].Message, "Patient/nope") {
							t.Errorf("reference issue does not name the reference: %q", rerr.Issues[0].Message)
						}
					}
				})
			}
			if err := sys.SetProjectFlags(ctx, a.ProjectID(), false, false); err != nil {
				t.Fatal(err)
			}
			if _, err := a.UpdateResource(ctx, "Patient", "x", []byte(`{"resourceType":"Patient","id":"bad id!"}`), ""); err == nil {
				t.Error("lenient update accepted an invalid id")
			}
		})
	}
}

func TestBadBodies(t *testing.T) {
	db := testdb.SQLite(t)
	sys := models.NewSystem(db.DB)
	ten := testdb.ProjectStore(t, sys, "a@example.org")
	for name, body := range map[string]string{
		"not JSON":         `{"resourceType":`,
		"two values":       `{"resourceType":"Patient"} {}`,
		"array":            `[{"resourceType":"Patient"}]`,
		"wrong type":       `{"resourceType":"Observation"}`,
		"no resourceType":  `{"name":[]}`,
		"resourceType int": `{"resourceType":5}`,
	} {
		var rerr *resources.ResourceError
		if _, err := ten.CreateResource(ctx, "Patient", []byte(body)); !errors.As(err, &rerr) || rerr.Issues[0].Message == "" {
			t.Errorf("%s: %v, want a ResourceError with a message", name, err)
		}
	}
	var qerr *resources.QueryError
	if _, err := ten.CreateResource(ctx, "Bogus", []byte(`{"resourceType":"Bogus"}`)); !errors.As(err, &qerr) {
		t.Errorf("unknown type: %v, want a QueryError", err)
	}
	if _, err := ten.CreateResource(ctx, "StructureDefinition", []byte(`{"resourceType":"StructureDefinition"}`)); !errors.Is(err, kit.ErrForbidden) {
		t.Errorf("create a system resource: %v, want ErrForbidden", err)
	}
	if err := ten.DeleteResource(ctx, "ValueSet", "administrative-gender"); !errors.Is(err, kit.ErrForbidden) {
		t.Errorf("delete a system resource: %v, want ErrForbidden", err)
	}
}

func TestStoredResourcesLeadWithResourceType(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			tn := testdb.ProjectStore(t, sys, "order@example.org")
			r, err := tn.CreateResource(ctx, "Patient", []byte(`{"gender":"female","resourceType":"Patient","active":true,"name":[{"family":"Ng"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			want := `{"resourceType":"Patient","id":"` + r.ID + `","meta":{`
			if !strings.HasPrefix(string(r.JSON), want) {
				t.Errorf("stored JSON starts %.80s, want %s", r.JSON, want)
			}
			var back map[string]any
			if err := json.Unmarshal(r.JSON, &back); err != nil || back["gender"] != "female" || back["active"] != true {
				t.Errorf("round trip: %v, %v", back, err)
			}
		})
	}
}
