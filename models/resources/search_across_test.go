package resources_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/models/testdb"
)

func TestSearchAcrossCompartmentAndHistory(t *testing.T) {
	for _, db := range testdb.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			sys := models.NewSystem(db.DB)
			ten := testdb.ProjectStore(t, sys, "across@example.org")
			org := testdb.MustCreate(t, ten, `{"resourceType":"Organization","name":"North"}`).ID
			ada := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Lovelace"}]}`).ID
			bob := testdb.MustCreate(t, ten, `{"resourceType":"Patient","name":[{"family":"Babbage"}]}`).ID
			o1 := testdb.MustCreate(t, ten, `{"resourceType":"Observation","status":"final","code":{"text":"a"},"subject":{"reference":"Patient/`+ada+`"}}`).ID
			o2 := testdb.MustCreate(t, ten, `{"resourceType":"Observation","status":"final","code":{"text":"b"},"performer":[{"reference":"Patient/`+ada+`"}],"subject":{"reference":"Patient/`+ada+`"}}`).ID
			testdb.MustCreate(t, ten, `{"resourceType":"Observation","status":"final","code":{"text":"c"},"subject":{"reference":"Patient/`+bob+`"}}`)
			enc := testdb.MustCreate(t, ten, `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/`+ada+`"}}`).ID
			if _, err := ten.UpdateResource(ctx, "Organization", org, []byte(`{"resourceType":"Organization","id":"`+org+`","name":"North Clinic"}`), ""); err != nil {
				t.Fatal(err)
			}
			other := testdb.ProjectStore(t, sys, "across-other@example.org")
			if _, _, err := other.PutResource(ctx, "Patient", ada, []byte(`{"resourceType":"Patient","id":"`+ada+`"}`), ""); err != nil {
				t.Fatal(err)
			}
			testdb.MustCreate(t, other, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/`+ada+`"}}`)

			// Ada's compartment.
			for typ, want := range map[string][]string{"Observation": sorted(o1, o2), "Encounter": {enc}} {
				q, err := resources.ParseSearch(typ, url.Values{"_total": {"accurate"}}, false)
				if err != nil {
					t.Fatal(err)
				}
				if err := q.InCompartment("Patient", ada); err != nil {
					t.Fatal(err)
				}
				res, err := ten.Search(ctx, q)
				var got []string
				for _, r := range res.Resources {
					got = append(got, r.ID)
				}
				slices.Sort(got)
				if err != nil || !slices.Equal(got, want) || res.Total != len(want) {
					t.Errorf("Patient/ada/%s: %v (total %d), %v; want %v", typ, got, res.Total, err, want)
				}
			}
			q, err := resources.ParseSearch("Organization", nil, false)
			if err != nil {
				t.Fatal(err)
			}
			var qe *resources.QueryError
			if err := q.InCompartment("Patient", ada); !errors.As(err, &qe) {
				t.Errorf("Organization in a Patient compartment: %v, want a QueryError", err)
			}
			if err := q.InCompartment("Encounter", enc); !errors.As(err, &qe) {
				t.Errorf("an Encounter compartment: %v, want a QueryError", err)
			}

			// Across types, newest first, paged.
			cs, err := resources.ParseCrossSearch(url.Values{"_type": {"Patient,Encounter"}, "_sort": {"-_lastUpdated"}, "_count": {"2"}, "_total": {"accurate"}}, false)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ten.SearchAcross(ctx, cs)
			if err != nil || len(res.Resources) != 2 || res.Total != 3 || !res.More || res.Resources[0].ID != enc || res.Resources[1].ID != bob {
				t.Errorf("across types: %v (total %d, more %v), %v", keys(res.Resources), res.Total, res.More, err)
			}
			cs.Offset = 2
			if res, err := ten.SearchAcross(ctx, cs); err != nil || len(res.Resources) != 1 || res.Resources[0].ID != ada || res.More {
				t.Errorf("second page across types: %v, %v", keys(res.Resources), err)
			}
			cs, err = resources.ParseCrossSearch(url.Values{"_type": {"Patient,Observation"}, "_id": {ada + "," + o1}}, false)
			if err != nil {
				t.Fatal(err)
			}
			if res, err := ten.SearchAcross(ctx, cs); err != nil || !slices.Equal(keys(res.Resources), sorted("Patient/"+ada, "Observation/"+o1)) {
				t.Errorf("_id across types: %v, %v", keys(res.Resources), err)
			}
			for _, bad := range []url.Values{
				{}, {"_type": {"Nothing"}}, {"_type": {"Patient,Observation"}, "name": {"x"}}, {"_type": {"Patient"}, "_sort": {"name"}},
				{"_type": {"Patient"}, "_include": {"Patient:organization"}}, {"_type": {"Patient"}, "_offset": {"5000"}},
			} {
				if _, err := resources.ParseCrossSearch(bad, false); !errors.As(err, &qe) {
					t.Errorf("ParseCrossSearch(%v): %v, want a QueryError", bad, err)
				}
			}

			// The project's history: every version (the owner's profile
			// Practitioner's too), newest first, this project's only.
			h, err := ten.ProjectHistory(ctx, resources.Page{Count: 3})
			if err != nil || h.Total != 9 || len(h.Versions) != 3 || h.Versions[0].Type != "Organization" || h.Versions[0].VersionID != "2" {
				t.Fatalf("project history: total %d, first %v, %v", h.Total, keys(h.Versions), err)
			}

			// Under a policy: whole types only; criteria-limited ones are left out.
			pol, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Mixed", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?name=lovelace"},
				{ResourceType: "Encounter", HiddenFields: []string{"class"}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			limited := ten.WithPolicy(&pol)
			h, err = limited.ProjectHistory(ctx, resources.Page{Count: 10})
			if err != nil || h.Total != 1 || h.Versions[0].ID != enc {
				t.Errorf("history under a policy: %+v, %v", h, err)
			}
			for _, v := range h.Versions {
				if strings.Contains(string(v.JSON), `"class"`) {
					t.Errorf("history shows a hidden field: %s", v.JSON)
				}
			}
			if cs, err = resources.ParseCrossSearch(url.Values{"_type": {"Patient,Observation"}}, false); err != nil {
				t.Fatal(err)
			}
			if res, err := limited.SearchAcross(ctx, cs); err != nil || !slices.Equal(keys(res.Resources), []string{"Patient/" + ada}) {
				t.Errorf("across types under a policy: %v, %v", keys(res.Resources), err)
			}
			none, err := ten.CreateAccessPolicy(ctx, audit.Actor{}, resources.PolicyInput{Name: "Criteria only", Rules: []resources.PolicyRule{
				{ResourceType: "Patient", Criteria: "Patient?name=lovelace"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ten.WithPolicy(&none).ProjectHistory(ctx, resources.Page{Count: 10}); !errors.Is(err, kit.ErrForbidden) {
				t.Errorf("history with no whole type: %v, want forbidden", err)
			}
		})
	}
}
