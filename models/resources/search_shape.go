package resources

import (
	"strings"

	"enclave/models/fhir"
)

// Values of _summary.
const (
	SummaryTrue  = "true"  // the elements R4 marks isSummary
	SummaryText  = "text"  // text, id, meta and the mandatory elements
	SummaryData  = "data"  // everything but text
	SummaryCount = "count" // no resources, only the total
	SummaryFalse = "false" // everything (the default)
)

// subsettedTag marks a resource returned without some of its elements.
var subsettedTag = map[string]any{
	"system":  "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
	"code":    "SUBSETTED",
	"display": "Resource encoded in summary mode",
}

// parseSummary reads _summary into q; count asks for the total alone.
func (q *SearchQuery) parseSummary(v string) error {
	switch v {
	case SummaryTrue, SummaryText, SummaryData, SummaryFalse:
	case SummaryCount:
		q.Count, q.Total = 0, TotalAccurate
	default:
		return badQuery("_summary must be true, text, data, count or false")
	}
	q.Summary = v
	return nil
}

// parseElements reads _elements into q: top-level element names.
func (q *SearchQuery) parseElements(values []string) error {
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" || strings.ContainsAny(name, ".:[]()") {
				return badQuery("_elements lists top-level element names, such as _elements=name,birthDate; %q is not one", name)
			}
			q.Elements = append(q.Elements, name)
		}
	}
	return nil
}

// shaped reports whether q returns its matches without some elements.
func (q SearchQuery) shaped() bool {
	return len(q.Elements) > 0 || q.Summary == SummaryTrue || q.Summary == SummaryText || q.Summary == SummaryData
}

// shape returns r with only the elements _summary or _elements asks for,
// marked SUBSETTED. id, meta and resourceType are always kept.
func (q SearchQuery) shape(r Resource) (Resource, error) {
	if !q.shaped() || len(r.JSON) == 0 {
		return r, nil
	}
	res, err := decodeJSONObject(r.JSON)
	if err != nil {
		return r, err
	}
	for k := range res {
		if !q.keeps(r.Type, k) {
			delete(res, k)
		}
	}
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	tags, _ := meta["tag"].([]any)
	meta["tag"] = append(tags, subsettedTag)
	r.JSON, err = marshalResource(res)
	return r, err
}

// keeps reports whether the shaped resource keeps its property key (a
// primitive's "_name" goes with "name").
func (q SearchQuery) keeps(resourceType, key string) bool {
	name := strings.TrimPrefix(key, "_")
	switch name {
	case "resourceType", "id", "meta":
		return true
	}
	if len(q.Elements) > 0 {
		for _, e := range q.Elements {
			if name == e || fhir.IsChoiceOf(name, e) {
				return true
			}
		}
		return false
	}
	switch q.Summary {
	case SummaryTrue:
		return fhir.IsSummaryElement(resourceType, name)
	case SummaryText:
		return name == "text" || fhir.IsRequiredElement(resourceType, name)
	default: // data
		return name != "text"
	}
}
