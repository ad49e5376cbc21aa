package fhir

import (
	"slices"
	"testing"
)

func TestResourceTypes(t *testing.T) {
	if !slices.IsSorted(resourceTypes) {
		t.Fatal("resourceTypes must stay sorted for the binary search")
	}
	if n := len(resourceTypes); n != 146 {
		t.Errorf("%d resource types, R4 has 146", n)
	}
	for _, ok := range []string{"Patient", "Observation", "Encounter", "Practitioner", "Organization", "VisionPrescription", "Account"} {
		if !IsResourceType(ok) {
			t.Errorf("%s rejected", ok)
		}
	}
	for _, bad := range []string{"", "patient", "Resource", "DomainResource", "Spaceship", "Patient "} {
		if IsResourceType(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
