package fhir

import (
	"slices"
	"testing"
)

func TestSearchExtras(t *testing.T) {
	for _, c := range []struct {
		kind      string
		is        func(string, string) bool
		typ, name string
		want      bool
	}{
		{"summary", IsSummaryElement, "Patient", "name", true},
		{"summary", IsSummaryElement, "Patient", "deceasedBoolean", true}, // deceased[x]
		{"summary", IsSummaryElement, "Patient", "deceased", false},
		{"summary", IsSummaryElement, "Patient", "photo", false},
		{"summary", IsSummaryElement, "Observation", "valueQuantity", true},
		{"summary", IsSummaryElement, "NoSuchType", "id", false},
		{"required", IsRequiredElement, "Observation", "status", true},
		{"required", IsRequiredElement, "Observation", "code", true},
		{"required", IsRequiredElement, "Observation", "valueQuantity", false},
		{"required", IsRequiredElement, "Patient", "name", false},
	} {
		if got := c.is(c.typ, c.name); got != c.want {
			t.Errorf("%s %s.%s: %v", c.kind, c.typ, c.name, got)
		}
	}
	if got := PatientCompartmentParams("Observation"); !slices.Contains(got, "subject") || !slices.Contains(got, "performer") {
		t.Errorf("Observation's compartment parameters: %q", got)
	}
	if got := PatientCompartmentParams("Organization"); len(got) != 0 {
		t.Errorf("Organization is outside the compartment: %q", got)
	}
	if len(ParamValues(load(t, "valid/patient.json"), "")) != 0 {
		t.Error("ParamValues of no parameter has values")
	}
}
