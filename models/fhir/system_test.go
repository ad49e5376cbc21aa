package fhir

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func systemJSON(t *testing.T, rt, id string) map[string]any {
	t.Helper()
	b, ok := SystemResource(rt, id)
	if !ok {
		t.Fatalf("%s/%s not found", rt, id)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/%s: %v", rt, id, err)
	}
	if m["resourceType"] != rt || m["id"] != id {
		t.Fatalf("%s/%s has resourceType %v and id %v", rt, id, m["resourceType"], m["id"])
	}
	return m
}

func TestSystemResources(t *testing.T) {
	sd := systemJSON(t, "StructureDefinition", "Patient")
	if sd["url"] != "http://hl7.org/fhir/StructureDefinition/Patient" || sd["kind"] != "resource" || sd["type"] != "Patient" {
		t.Errorf("StructureDefinition/Patient: %v %v %v", sd["url"], sd["kind"], sd["type"])
	}
	elems := sd["snapshot"].(map[string]any)["element"].([]any)
	found := false
	for _, e := range elems {
		el := e.(map[string]any)
		if el["path"] == "Patient.gender" {
			found = true
			b := el["binding"].(map[string]any)
			if el["max"] != "1" || b["strength"] != "required" || b["valueSet"] != "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1" {
				t.Errorf("Patient.gender element: %v", el)
			}
		}
	}
	if !found {
		t.Error("Patient.gender missing from the snapshot")
	}

	vs := systemJSON(t, "ValueSet", "administrative-gender")
	if vs["url"] != "http://hl7.org/fhir/ValueSet/administrative-gender" || vs["compose"] == nil {
		t.Errorf("ValueSet/administrative-gender: %v", vs)
	}
	cs := systemJSON(t, "CodeSystem", "administrative-gender")
	var codes []string
	for _, c := range cs["concept"].([]any) {
		codes = append(codes, c.(map[string]any)["code"].(string))
	}
	if !slices.Equal(codes, []string{"male", "female", "other", "unknown"}) {
		t.Errorf("CodeSystem/administrative-gender codes: %v", codes)
	}
	sp := systemJSON(t, "SearchParameter", "individual-birthdate")
	if sp["code"] != "birthdate" || sp["type"] != "date" || !slices.Contains(sp["base"].([]any), any("Patient")) {
		t.Errorf("SearchParameter/individual-birthdate: %v", sp)
	}

	for _, miss := range [][2]string{{"StructureDefinition", "Unicorn"}, {"Patient", "example"}, {"ValueSet", ""}} {
		if _, ok := SystemResource(miss[0], miss[1]); ok {
			t.Errorf("%s/%s should not exist", miss[0], miss[1])
		}
	}
}

func TestSystemIndex(t *testing.T) {
	for rt, atLeast := range map[string]int{"StructureDefinition": 200, "ValueSet": 600, "CodeSystem": 400, "SearchParameter": 1300} {
		if !IsSystemType(rt) {
			t.Errorf("%s should be a system type", rt)
		}
		idx := SystemIndex(rt)
		if len(idx) < atLeast {
			t.Errorf("%s: %d entries, want at least %d", rt, len(idx), atLeast)
		}
		for i, e := range idx {
			if e.ResourceType != rt || e.ID == "" {
				t.Fatalf("%s entry %d: %+v", rt, i, e)
			}
			if i > 0 && idx[i-1].ID >= e.ID {
				t.Fatalf("%s not sorted by id at %q", rt, e.ID)
			}
		}
	}
	idx := SystemIndex("ValueSet")
	i, ok := slices.BinarySearchFunc(idx, "administrative-gender", func(e SystemEntry, id string) int {
		return strings.Compare(e.ID, id)
	})
	if !ok || idx[i].Name != "AdministrativeGender" || idx[i].URL != "http://hl7.org/fhir/ValueSet/administrative-gender" {
		t.Errorf("ValueSet administrative-gender entry: %+v", idx[min(i, len(idx)-1)])
	}
	if IsSystemType("Patient") || SystemIndex("Patient") != nil {
		t.Error("Patient is not a system type")
	}
}

// BenchmarkEmbeddedDataLoad measures loading the embedded definitions, which
// every start of the server pays (speed lives here, not in a timed test).
func BenchmarkEmbeddedDataLoad(b *testing.B) {
	for b.Loop() {
		if _, err := loadDefinitions(defsGz); err != nil {
			b.Fatal(err)
		}
		if _, err := loadSystem(systemGz); err != nil {
			b.Fatal(err)
		}
	}
}
