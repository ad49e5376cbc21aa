package handlers

import (
	"encoding/json"
	"slices"
	"sync"

	"enclave/models/fhir"
	"enclave/models/resources"
)

// capabilityStatement describes exactly what the API supports. It is built
// once from the same definitions the store uses for search.
var capabilityStatement = sync.OnceValue(func() []byte {
	type code struct {
		Code string `json:"code"`
	}
	type param struct {
		Name string `json:"name"`
		Type string `json:"type"`
	}
	type resource struct {
		Type              string   `json:"type"`
		Interaction       []code   `json:"interaction"`
		Versioning        string   `json:"versioning,omitempty"`
		ReadHistory       bool     `json:"readHistory"`
		UpdateCreate      bool     `json:"updateCreate"`
		ConditionalCreate bool     `json:"conditionalCreate"`
		ConditionalRead   string   `json:"conditionalRead"`
		ConditionalUpdate bool     `json:"conditionalUpdate"`
		ConditionalDelete string   `json:"conditionalDelete"`
		SearchInclude     []string `json:"searchInclude,omitempty"`
		SearchRevInclude  []string `json:"searchRevInclude,omitempty"`
		SearchParam       []param  `json:"searchParam"`
		// Operation: see typeOperations.
		Operation []capOperation `json:"operation,omitempty"`
	}
	codes := func(cs ...string) []code {
		out := make([]code, len(cs))
		for i, c := range cs {
			out[i] = code{c}
		}
		return out
	}
	includes, revIncludes := includePaths()
	var listed []resource
	for _, rt := range fhir.ResourceTypes() {
		r := resource{Type: rt, ConditionalRead: "not-supported", ConditionalDelete: "not-supported"}
		r.Operation = typeOperations(rt)
		if fhir.IsSystemType(rt) {
			r.Interaction = codes("read", "search-type")
			r.SearchParam = []param{{"_id", "token"}, {"name", "string"}, {"url", "uri"}}
			listed = append(listed, r)
			continue
		}
		r.Interaction = codes("read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type")
		r.Versioning, r.ReadHistory, r.UpdateCreate = "versioned-update", true, true
		// If-None-Match and If-Modified-Since both answer 304; a conditional
		// delete matching several resources is refused (412).
		r.ConditionalCreate, r.ConditionalRead, r.ConditionalUpdate, r.ConditionalDelete = true, "full-support", true, "single"
		r.SearchInclude, r.SearchRevInclude = includes[rt], revIncludes[rt]
		for name, p := range fhir.SearchParams(rt) {
			if resources.Searchable(p) {
				r.SearchParam = append(r.SearchParam, param{name, string(p.Type)})
			}
		}
		slices.SortFunc(r.SearchParam, func(a, b param) int {
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		})
		listed = append(listed, r)
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         "2026-01-01",
		"kind":         "instance",
		"software":     map[string]string{"name": "Enclave"},
		"implementation": map[string]string{
			"description": "Enclave FHIR R4 server: one project per request, chosen by the caller's credentials",
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "json"},
		"patchFormat": []string{"application/json-patch+json"},
		"rest": []map[string]any{{
			"mode":      "server",
			"resource":  listed,
			"operation": systemOperations,
			// Bundles posted to the base (see ProcessBundle), and searches
			// and history across types.
			"interaction": []code{{"transaction"}, {"batch"}, {"search-system"}, {"history-system"}},
			"compartment": []string{"http://hl7.org/fhir/CompartmentDefinition/patient"},
		}},
	}
	b, err := json.Marshal(cs)
	if err != nil {
		panic(err)
	}
	return b
})

// capOperation is an operation a CapabilityStatement lists, for one type
// (rest.resource.operation) or the server (rest.operation).
type capOperation struct {
	Name          string `json:"name"`
	Definition    string `json:"definition"`
	Documentation string `json:"documentation,omitempty"`
}

// The HL7 operations Enclave answers, by their OperationDefinitions.
var (
	opValidate   = capOperation{Name: "validate", Definition: "http://hl7.org/fhir/OperationDefinition/Resource-validate"}
	opEverything = capOperation{Name: "everything", Definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything"}
	opExpand     = capOperation{Name: "expand", Definition: "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
		Documentation: "Over the shared definitions: GET ValueSet/$expand?url=… or ValueSet/{id}/$expand, with filter, count and offset"}
	opLookup = capOperation{Name: "lookup", Definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
		Documentation: "Over the shared definitions: GET CodeSystem/$lookup?system=…&code=…"}
)

// typeOperations are the operations on resources of type rt: $validate on
// every type a project may write, and each type's own.
func typeOperations(rt string) []capOperation {
	var out []capOperation
	if !fhir.IsSystemType(rt) {
		out = append(out, opValidate)
	}
	if op, ok := ownOperations[rt]; ok {
		out = append(out, op)
	}
	return out
}

// ownOperations are the operations of one type.
var ownOperations = map[string]capOperation{"Patient": opEverything, "ValueSet": opExpand, "CodeSystem": opLookup}

// systemOperations are the operations outside the R4 types: the super
// admins' operations on whole projects (Project is not an R4 resource
// type, and these are Enclave's, after Medplum's, with no HL7 definition).
var systemOperations = []capOperation{
	{Name: "clone", Definition: "urn:enclave:OperationDefinition:project-clone",
		Documentation: "Super admins only: POST Project/{id}/$clone copies a whole project"},
	{Name: "expunge", Definition: "urn:enclave:OperationDefinition:project-expunge",
		Documentation: "Super admins only: POST Project/{id}/$expunge?everything=true deletes a project and everything of it"},
}

// includePaths lists, per resource type, the _include values a search of
// it takes (each reference parameter, and "*") and the _revinclude values
// (each reference parameter of any type that may point to it).
func includePaths() (includes, revIncludes map[string][]string) {
	includes, revIncludes = map[string][]string{}, map[string][]string{}
	for _, rt := range fhir.ResourceTypes() {
		if fhir.IsSystemType(rt) {
			continue
		}
		for name, p := range fhir.SearchParams(rt) {
			if p.Type != fhir.TypeReference || !resources.Searchable(p) {
				continue
			}
			includes[rt] = append(includes[rt], rt+":"+name)
			for _, target := range p.Targets {
				revIncludes[target] = append(revIncludes[target], rt+":"+name)
			}
		}
		if len(includes[rt]) > 0 {
			includes[rt] = append(includes[rt], rt+":*")
		}
	}
	for _, m := range []map[string][]string{includes, revIncludes} {
		for _, l := range m {
			slices.Sort(l)
		}
	}
	return includes, revIncludes
}
