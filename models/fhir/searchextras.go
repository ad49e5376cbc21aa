package fhir

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
)

//go:embed data/search.json.gz
var searchExtrasGz []byte

// searchExtras is data/search.json.gz, written by cmd/fhirgen.
type searchExtras struct {
	// Summary lists, per resource type, its top-level elements that R4
	// marks isSummary; a choice element keeps its "[x]".
	Summary map[string][]string `json:"summary"`
	// PatientCompartment lists, per resource type, the parameters that put
	// a resource in a Patient's compartment.
	PatientCompartment map[string][]string `json:"patientCompartment"`
}

var loadSearchExtras = sync.OnceValue(func() searchExtras {
	var out searchExtras
	zr, err := gzip.NewReader(bytes.NewReader(searchExtrasGz))
	if err != nil {
		panic("fhir: search.json.gz: " + err.Error())
	}
	b, err := io.ReadAll(zr)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		panic("fhir: search.json.gz: " + err.Error())
	}
	return out
})

// IsSummaryElement reports whether the top-level JSON property name of a
// resource of the type is a summary element (what _summary=true keeps):
// "deceasedBoolean" is one when "deceased[x]" is.
func IsSummaryElement(resourceType, name string) bool {
	for _, e := range loadSearchExtras().Summary[resourceType] {
		if e == name {
			return true
		}
		if base, ok := strings.CutSuffix(e, "[x]"); ok && IsChoiceOf(name, base) {
			return true
		}
	}
	return false
}

// PatientCompartmentParams are the reference parameters of resourceType
// that place a resource in a Patient's compartment (R4's
// CompartmentDefinition "patient"); none for a type outside it.
func PatientCompartmentParams(resourceType string) []string {
	return slices.Clone(loadSearchExtras().PatientCompartment[resourceType])
}

// ParamValues returns the index values of one search parameter of the
// resource, as ExtractIndex finds them, without evaluating the others.
func ParamValues(resource map[string]any, code string) []IndexValue {
	if code == "" {
		return nil
	}
	return extractIndex(resource, code)
}

// IsRequiredElement reports whether the top-level JSON property name of a
// resource of the type is a mandatory element (min 1 or more), which
// _summary=text keeps.
func IsRequiredElement(resourceType, name string) bool {
	for _, e := range defs().children[resourceType] {
		if e.min > 0 && (e.name == name || e.choice && IsChoiceOf(name, e.name)) {
			return true
		}
	}
	return false
}

// IsChoiceOf reports whether the JSON property name is the choice element
// base with a type appended: "valueQuantity" of "value".
func IsChoiceOf(name, base string) bool {
	return len(name) > len(base) && strings.HasPrefix(name, base) && name[len(base)] >= 'A' && name[len(base)] <= 'Z'
}
