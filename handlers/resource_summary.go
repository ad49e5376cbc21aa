package handlers

import (
	"encoding/json"
	"fmt"
	"strings"

	"enclave/models/fhir"
	"enclave/views"
	"enclave/views/paths"

	"enclave/models"
)

// decodeJSON reads a stored resource; a broken one reads as empty.
func decodeJSON(b []byte) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// summarize names a resource for people: a person's name, an
// organisation's name, an observation's code and value, and so on. It is
// empty when nothing fits.
func summarize(b []byte) string {
	res := decodeJSON(b)
	switch name := res["name"].(type) {
	case string:
		return name
	case []any:
		if s := humanName(name); s != "" {
			return s
		}
	}
	if code, ok := res["code"].(map[string]any); ok {
		s := concept(code)
		if v := value(res); s != "" && v != "" {
			s += ": " + v
		}
		if s != "" {
			return s
		}
	}
	if med, ok := res["medicationCodeableConcept"].(map[string]any); ok {
		return concept(med)
	}
	if res["resourceType"] == "Encounter" {
		return encounterSummary(res)
	}
	for _, k := range []string{"title", "description"} {
		if s, ok := res[k].(string); ok {
			return s
		}
	}
	return ""
}

// humanName shows the first usable HumanName of a list.
func humanName(names []any) string {
	for _, n := range names {
		m, _ := n.(map[string]any)
		if text, ok := m["text"].(string); ok && text != "" {
			return text
		}
		var parts []string
		for _, key := range []string{"prefix", "given"} {
			for _, g := range asList(m[key]) {
				if s, ok := g.(string); ok {
					parts = append(parts, s)
				}
			}
		}
		if f, ok := m["family"].(string); ok {
			parts = append(parts, f)
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	return ""
}

// concept shows a CodeableConcept: its text, else its first coding.
func concept(m map[string]any) string {
	if text, ok := m["text"].(string); ok && text != "" {
		return text
	}
	for _, c := range asList(m["coding"]) {
		if s := coding(c); s != "" {
			return s
		}
	}
	return ""
}

// coding shows a Coding: its display, else its code.
func coding(v any) string {
	m, _ := v.(map[string]any)
	for _, k := range []string{"display", "code"} {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// value shows an observation-like value[x] in a few words.
func value(res map[string]any) string {
	if q, ok := res["valueQuantity"].(map[string]any); ok {
		s := fmt.Sprint(q["value"])
		if u, ok := q["unit"].(string); ok {
			s += " " + u
		}
		return s
	}
	if cc, ok := res["valueCodeableConcept"].(map[string]any); ok {
		return concept(cc)
	}
	for _, k := range []string{"valueString", "valueBoolean", "valueInteger", "valueDateTime"} {
		if v, ok := res[k]; ok {
			return fmt.Sprint(v)
		}
	}
	return ""
}

func encounterSummary(res map[string]any) string {
	var parts []string
	if s := coding(res["class"]); s != "" {
		parts = append(parts, s)
	}
	for _, t := range asList(res["type"]) {
		if m, ok := t.(map[string]any); ok {
			if s := concept(m); s != "" {
				parts = append(parts, s)
				break
			}
		}
	}
	if p, ok := res["period"].(map[string]any); ok {
		if s, ok := p["start"].(string); ok {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// keyElements are the top-level elements the resource page lists above the
// JSON, when present.
var keyElements = []string{"status", "active", "gender", "birthDate", "deceasedBoolean", "deceasedDateTime", "identifier",
	"telecom", "category", "class", "subject", "patient", "encounter", "managingOrganization", "organization",
	"effectiveDateTime", "issued", "period", "onsetDateTime", "recordedDate", "authoredOn", "intent", "url", "version"}

// keyFields lists a resource's key elements; references link to the
// referenced resource in the browser.
func keyFields(sc models.Scope, b []byte) []views.KeyFieldVM {
	res := decodeJSON(b)
	var out []views.KeyFieldVM
	for _, k := range keyElements {
		v, ok := res[k]
		if !ok {
			continue
		}
		f := views.KeyFieldVM{Label: k}
		switch x := v.(type) {
		case string, bool, float64:
			f.Value = fmt.Sprint(x)
		case []any:
			var parts []string
			for _, item := range x {
				if s := element(item); s != "" {
					parts = append(parts, s)
				}
			}
			f.Value = strings.Join(parts, ", ")
		case map[string]any:
			f.Value = element(x)
			if ref, ok := x["reference"].(string); ok {
				if typ, id, ok := strings.Cut(ref, "/"); ok && fhir.IsResourceType(typ) && fhirID.MatchString(id) {
					f.URL = paths.Resource.URL(sc.Project().ID, typ, id)
				}
			}
		}
		if f.Value != "" {
			out = append(out, f)
		}
	}
	return out
}

// element shows one complex value: a Reference, Identifier, ContactPoint,
// Period, Coding or CodeableConcept.
func element(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	if ref, ok := m["reference"].(string); ok {
		if d, ok := m["display"].(string); ok {
			return d + " (" + ref + ")"
		}
		return ref
	}
	if val, ok := m["value"].(string); ok { // Identifier, ContactPoint
		if sys, ok := m["system"].(string); ok {
			return sys + "|" + val
		}
		return val
	}
	if start, ok := m["start"].(string); ok {
		end, _ := m["end"].(string)
		return start + " – " + end
	}
	if s := concept(m); s != "" {
		return s
	}
	return coding(m)
}
