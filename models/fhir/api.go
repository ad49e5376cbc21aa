package fhir

import "time"

// Issue is one problem found in a resource. Expression is a FHIRPath-like
// location such as "Patient.name[0].given[1]" or "Observation.status".
type Issue struct {
	Severity   string // "error" or "warning"
	Code       string // FHIR IssueType code: "structure", "required", "value", "code-invalid", "invalid", "invariant", "not-supported"
	Expression string
	Message    string // human readable, safe to show to API clients
}

// IsResourceType reports whether t names a known R4 resource type.
func IsResourceType(t string) bool { return isResourceType(t) }

// IsID reports whether s is a valid FHIR id: 1 to 64 letters, digits, '-'
// and '.'.
func IsID(s string) bool { return idPattern.MatchString(s) }

// ResourceTypes lists the known R4 resource types, sorted.
func ResourceTypes() []string { return resourceTypes() }

// Validate checks one resource, decoded with json.Decoder.UseNumber() so that
// numbers arrive as json.Number.
//
// With strict false only the shape is checked: the value is an object, its
// resourceType is present and known, its id (if any) is a valid FHIR id and
// meta.versionId / meta.lastUpdated are well-formed when present.
//
// With strict true the resource is also checked against the R4
// StructureDefinition of its type: unknown elements, primitive formats,
// cardinality, choice types, primitive extensions, nested elements, contained
// resources and codes bound "required" to a ValueSet that can be expanded from
// the shipped CodeSystems.
//
// It returns every problem found, or nil when the resource is valid. Issues
// come in FHIR element order within each object (unknown properties last,
// then missing required elements), which for resources written in the usual
// order is document order. Codes: "required" (missing resourceType or
// required element), "not-supported" (unknown resourceType), "structure"
// (unknown element, wrong JSON type, array vs single value, bad choice type),
// "value" (bad primitive format), "code-invalid" (code outside a required
// ValueSet), "invariant" (empty object, ele-1). All have severity "error".
func Validate(resource map[string]any, strict bool) []Issue { return validate(resource, strict) }

// ParamType is the type of a search parameter: "string", "token", "date",
// "reference", "number", "quantity", "uri", "composite" or "special".
type ParamType string

// The search parameter types of FHIR R4.
const (
	TypeString    ParamType = "string"
	TypeToken     ParamType = "token"
	TypeDate      ParamType = "date"
	TypeReference ParamType = "reference"
	TypeNumber    ParamType = "number"
	TypeQuantity  ParamType = "quantity"
	TypeURI       ParamType = "uri"
	TypeComposite ParamType = "composite"
	TypeSpecial   ParamType = "special"
)

// SearchParam describes one search parameter of one resource type.
type SearchParam struct {
	Code       string // e.g. "birthdate"
	Type       ParamType
	Expression string   // FHIRPath from the R4 SearchParameter, restricted to this resource type
	Targets    []string // reference target types
	// Components are a composite parameter's component types (the first a
	// token), when the store searches by it; nil otherwise.
	Components []ParamType
}

// SearchParams returns every R4 search parameter whose base includes
// resourceType, plus the common ones of every resource (_id, _lastUpdated,
// ...), keyed by code. It returns nil for an unknown type. The map is a copy
// that the caller may change.
func SearchParams(resourceType string) map[string]SearchParam { return searchParams(resourceType) }

// IndexValue is one value to store in a search index for a resource.
type IndexValue struct {
	Param string // search parameter code
	Type  ParamType
	// string params: Text is the value lower-cased with accents removed (for prefix/contains matching)
	Text string
	// string params: Raw is the value as written (trimmed), for :exact matching
	Raw string
	// token params: System and Code (Code also set for booleans "true"/"false", plain codes and
	// identifiers' value); Text holds display/text if any
	System, Code string
	// date params: the instant range [Start, End) the value covers
	// (e.g. "1990" -> 1990-01-01..1991-01-01 UTC)
	Start, End time.Time
	// reference params: the target's type and id for relative references "Type/id";
	// Ref keeps the raw reference string
	RefType, RefID, Ref string
	// number and quantity params: Number is the value as written, and
	// [Low, High) the range its implicit precision covers ("5.4" covers
	// [5.35, 5.45)); a quantity's System and Code are those of the
	// Quantity, and Unit its human-readable unit.
	Number, Low, High float64
	Unit              string
}

// ExtractIndex returns the index values of every supported search parameter
// (string, token, date, reference, uri, number and quantity) of the
// resource's type. A parameter covered by others (see StoredParams) has
// only the values they do not hold; ParamValues finds all of one
// parameter's values. It never panics, whatever the input.
func ExtractIndex(resource map[string]any) []IndexValue { return extractIndex(resource, "") }

// Reference is one Reference.reference found anywhere in a resource,
// including contained and nested elements but not references to contained
// resources ("#id").
type Reference struct {
	Path      string // FHIRPath-like location, e.g. "Observation.subject"
	Reference string // as written, e.g. "Patient/123"
	Type, ID  string // parsed from relative "Type/id"; empty for absolute URLs, urn:uuid and the like
}

// References lists the references of a resource in document order.
func References(resource map[string]any) []Reference { return references(resource) }

// SystemEntry names one shared, read-only system resource.
type SystemEntry struct{ ResourceType, ID, Name, URL string }

// IsSystemType reports whether resources of this type are shared system
// resources (StructureDefinition, ValueSet, CodeSystem, SearchParameter).
func IsSystemType(resourceType string) bool { return isSystemType(resourceType) }

// SystemIndex lists all system resources of a type, sorted by ID.
func SystemIndex(resourceType string) []SystemEntry { return systemIndex(resourceType) }

// SystemResource returns the JSON of one system resource (with resourceType
// and id), as the API serves it.
func SystemResource(resourceType, id string) ([]byte, bool) { return systemResource(resourceType, id) }
