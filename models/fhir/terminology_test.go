package fhir

import (
	"errors"
	"fmt"
	"testing"
)

func codesOf(cs []Concept) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Code
	}
	return out
}

func TestExpandValueSet(t *testing.T) {
	id, err := ValueSetID("http://hl7.org/fhir/ValueSet/administrative-gender")
	if err != nil || id != "administrative-gender" {
		t.Fatalf("ValueSetID: %q, %v", id, err)
	}
	if _, err := ValueSetID("http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1"); err != nil {
		t.Errorf("the shipped version is refused: %v", err)
	}
	e, err := ExpandValueSet(id, "", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(e.Contains); e.Total != 4 || len(got) != 4 || got[0] != "male" || got[3] != "unknown" {
		t.Fatalf("administrative-gender: total %d, %v", e.Total, got)
	}
	if c := e.Contains[1]; c.System != "http://hl7.org/fhir/administrative-gender" || c.Display != "Female" || c.Version != "4.0.1" {
		t.Errorf("female: %+v", c)
	}
	// filter matches code or display, ignoring case; count and offset page.
	e, err = ExpandValueSet(id, "MAL", 0, -1)
	if got := codesOf(e.Contains); err != nil || e.Total != 2 || len(got) != 2 || got[0] != "male" || got[1] != "female" {
		t.Errorf("filter MAL: %d %v %v", e.Total, got, err)
	}
	e, err = ExpandValueSet(id, "", 1, 2)
	if got := codesOf(e.Contains); err != nil || e.Total != 4 || len(got) != 2 || got[0] != "female" || got[1] != "other" {
		t.Errorf("offset 1 count 2: %d %v %v", e.Total, got, err)
	}
	e, err = ExpandValueSet(id, "", -1, 1)
	if got := codesOf(e.Contains); err != nil || e.Total != 4 || len(got) != 1 || got[0] != "male" {
		t.Errorf("a negative offset is the start: %d %v %v", e.Total, got, err)
	}
	e, err = ExpandValueSet(id, "", 9, 2)
	if err != nil || e.Total != 4 || len(e.Contains) != 0 {
		t.Errorf("offset past the end: %+v %v", e, err)
	}
	// A hierarchy is listed depth first.
	e, err = ExpandValueSet("condition-clinical", "", 0, -1)
	if got := fmt.Sprint(codesOf(e.Contains)); err != nil || got != "[active recurrence relapse inactive remission resolved]" {
		t.Errorf("condition-clinical: %s %v", got, err)
	}
	// Filters on a hierarchy: is-a takes the code and its descendants,
	// descendent-of only those, is-not-a every other code.
	for op, want := range map[string]string{"is-a": "[active recurrence relapse]", "descendent-of": "[recurrence relapse]",
		"is-not-a": "[inactive remission resolved]"} {
		inc := vsInclude{System: "http://terminology.hl7.org/CodeSystem/condition-clinical"}
		inc.Filter = append(inc.Filter, struct {
			Property string `json:"property"`
			Op       string `json:"op"`
			Value    string `json:"value"`
		}{"concept", op, "active"})
		cs, err := terms().include("test", inc, 0)
		if got := fmt.Sprint(codesOf(cs)); err != nil || got != want {
			t.Errorf("%s active: %s %v", op, got, err)
		}
	}
	// Codes of a system that is not shipped cannot be listed.
	var te *TermError
	if _, err := ExpandValueSet("body-site", "", 0, -1); !errors.As(err, &te) || te.Code != "not-supported" {
		t.Errorf("body-site (SNOMED CT): %v", err)
	}
	if _, err := ValueSetID("http://example.org/no-such"); !errors.As(err, &te) || te.Code != "not-found" {
		t.Errorf("unknown url: %v", err)
	}
	if _, err := ExpandValueSet("no-such", "", 0, -1); !errors.As(err, &te) || te.Code != "not-found" {
		t.Errorf("unknown id: %v", err)
	}
}

// TestExpandEveryValueSet: every shipped ValueSet expands or says why not,
// without panicking.
func TestExpandEveryValueSet(t *testing.T) {
	expanded := 0
	for _, e := range SystemIndex("ValueSet") {
		_, err := ExpandValueSet(e.ID, "", 0, -1)
		var te *TermError
		switch {
		case err == nil:
			expanded++
		case !errors.As(err, &te) || te.Code != "not-supported":
			t.Errorf("%s: %v", e.ID, err)
		}
	}
	if expanded < 400 {
		t.Errorf("only %d ValueSets expand", expanded)
	}
}

func TestLookupCode(t *testing.T) {
	l, err := LookupCode("http://hl7.org/fhir/administrative-gender", "female")
	if err != nil || l.Name != "AdministrativeGender" || l.Display != "Female" || l.Version != "4.0.1" {
		t.Fatalf("female: %+v %v", l, err)
	}
	// Nested concepts are found too.
	if l, err := LookupCode("http://terminology.hl7.org/CodeSystem/condition-clinical", "relapse"); err != nil || l.Display != "Relapse" {
		t.Errorf("condition-clinical relapse: %+v %v", l, err)
	}
	var te *TermError
	if _, err := LookupCode("http://hl7.org/fhir/administrative-gender", "Female"); !errors.As(err, &te) || te.Code != "code-invalid" {
		t.Errorf("codes are case-sensitive here: %v", err)
	}
	// SNOMED CT is shipped without its codes: no code can be told valid
	// or not.
	if _, err := LookupCode("http://snomed.info/sct", "38341003"); !errors.As(err, &te) || te.Code != "not-supported" {
		t.Errorf("a code system shipped without codes: %v", err)
	}
	if _, err := LookupCode("http://example.org/cs", "x"); !errors.As(err, &te) || te.Code != "not-found" {
		t.Errorf("unknown system: %v", err)
	}
	if _, err := LookupCode("http://hl7.org/fhir/administrative-gender|3.0.1", "male"); !errors.As(err, &te) || te.Code != "not-found" {
		t.Errorf("another version: %v", err)
	}
}
