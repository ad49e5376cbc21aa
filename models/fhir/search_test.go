package fhir

import (
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// indexOf renders the index values of a resource, per parameter, in a form
// that is easy to compare: string "text", token "system|code (text)",
// date "start/end", reference "Ref -> Type/ID".
func indexOf(r map[string]any) map[string][]string {
	out := map[string][]string{}
	for _, v := range ExtractIndex(r) {
		var s string
		switch v.Type {
		case TypeString:
			s = v.Text
		case TypeToken:
			s = v.System + "|" + v.Code
			if v.Text != "" {
				s += " (" + v.Text + ")"
			}
		case TypeDate:
			s = v.Start.Format(time.RFC3339Nano) + "/" + v.End.Format(time.RFC3339Nano)
		case TypeReference:
			s = v.Ref + " -> " + v.RefType + "/" + v.RefID
		case TypeNumber, TypeQuantity:
			s = strconv.FormatFloat(v.Number, 'g', -1, 64) + " " + v.System + "|" + v.Code + "|" + v.Unit
		}
		out[v.Param] = append(out[v.Param], s)
	}
	return out
}

func checkIndex(t *testing.T, r map[string]any, want map[string][]string) {
	t.Helper()
	got := indexOf(r)
	for param, values := range want {
		if !slices.Equal(got[param], values) {
			t.Errorf("%s:\n got %q\nwant %q", param, got[param], values)
		}
	}
}

func TestExtractIndexPatient(t *testing.T) {
	checkIndex(t, load(t, "valid/patient.json"), map[string][]string{
		"_id":                  {"|pat-1"},
		"_lastUpdated":         {"2024-05-01T12:30:00Z/2024-05-01T12:30:00.001Z"},
		"name":                 {"muller", "ann", "marie", "dr.", "annie"},
		"family":               {"muller"},
		"given":                {"ann", "marie"},
		"address":              {"bahnhofstrasse 1", "zurich", "8001", "ch"},
		"address-city":         {"zurich"},
		"identifier":           {"http://example.org/mrn|MRN-001 (Medical record number)"},
		"gender":               {"|female"},
		"active":               {"|true"},
		"birthdate":            {"1990-05-12T00:00:00Z/1990-05-13T00:00:00Z"},
		"organization":         {"Organization/org-1 -> Organization/org-1"},
		"general-practitioner": {"Practitioner/prac-1 -> Practitioner/prac-1"},
		"telecom":              {"phone|+41 44 000 00 00"},
		"phone":                {"phone|+41 44 000 00 00"},
		"email":                nil,
	})
}

func TestExtractIndexObservation(t *testing.T) {
	checkIndex(t, load(t, "valid/observation.json"), map[string][]string{
		"code":      {"http://loinc.org|85354-9 (Blood pressure panel)"},
		"status":    {"|final"},
		"subject":   {"Patient/pat-1 -> Patient/pat-1"},
		"patient":   {"Patient/pat-1 -> Patient/pat-1"},
		"encounter": {"Encounter/enc-1 -> Encounter/enc-1"},
		"performer": {"Practitioner/prac-1 -> Practitioner/prac-1"},
		"date":      {"2024-05-01T07:30:00Z/2024-05-01T07:30:01Z"},
		"category":  {"http://terminology.hl7.org/CodeSystem/observation-category|vital-signs"},
		"component-code": {
			"http://loinc.org|8480-6 (Systolic blood pressure)",
			"http://loinc.org|8462-4 (Diastolic blood pressure)",
		},
		"component-value-quantity": {"120 http://unitsofmeasure.org|mm[Hg]|mmHg", "80 ||mmHg"},
		"value-quantity":           nil,
	})
}

func TestNumberRange(t *testing.T) {
	for _, c := range []struct {
		in             string
		num, low, high float64
		ok             bool
	}{
		{"5.4", 5.4, 5.35, 5.45, true},
		{"100", 100, 99.5, 100.5, true},
		{"-2.50", -2.5, -2.505, -2.495, true},
		{"1.0e2", 100, 95, 105, true},
		{"5E-1", 0.5, 0.45, 0.55, true},
		{"0", 0, -0.5, 0.5, true},
		{"heavy", 0, 0, 0, false},
		{"NaN", 0, 0, 0, false},
		{"Inf", 0, 0, 0, false},
		{"1e999", 0, 0, 0, false},
		{"0x10", 0, 0, 0, false},
		{"1_000", 0, 0, 0, false},
		{"", 0, 0, 0, false},
	} {
		num, low, high, ok := NumberRange(c.in)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
		if ok != c.ok || ok && (num != c.num || !near(low, c.low) || !near(high, c.high)) {
			t.Errorf("NumberRange(%q) = %v, %v, %v, %v; want %v, %v, %v, %v", c.in, num, low, high, ok, c.num, c.low, c.high, c.ok)
		}
	}
	// More digits than a float holds: the range still holds the number.
	num, low, high, ok := NumberRange("5.400000000000000000001")
	if !ok || low > num || high <= num {
		t.Errorf("a long decimal: %v in [%v, %v), ok %v", num, low, high, ok)
	}
}

func TestExtractIndexEncounter(t *testing.T) {
	checkIndex(t, load(t, "valid/encounter.json"), map[string][]string{
		"status":           {"|finished"},
		"subject":          {"Patient/pat-1 -> Patient/pat-1"},
		"patient":          {"Patient/pat-1 -> Patient/pat-1"},
		"date":             {"2024-05-01T07:00:00Z/2024-05-01T08:00:01Z"},
		"class":            {"http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB (ambulatory)"},
		"participant":      {"Practitioner/prac-1 -> Practitioner/prac-1"},
		"location":         {"Location/room-1 -> Location/room-1"},
		"service-provider": {"Organization/org-1 -> Organization/org-1"},
		"type":             {"| (Check-up)"},
	})
}

func TestExtractIndexPractitionerAndOrganization(t *testing.T) {
	checkIndex(t, load(t, "valid/practitioner.json"), map[string][]string{
		"name":       {"curie", "marie", "dr."},
		"family":     {"curie"},
		"given":      {"marie"},
		"identifier": {"http://hl7.org/fhir/sid/us-npi|1234567893"},
		"email":      {"email|marie@example.org"},
		"gender":     {"|female"},
	})
	// Organization's name is its name | alias, phonetic its name alone: the
	// name is indexed once, under phonetic (see TestCoveredParameters).
	checkIndex(t, load(t, "valid/organization.json"), map[string][]string{
		"name":         {"acme"},
		"phonetic":     {"acme clinic"},
		"identifier":   {"urn:oid:2.16.840.1.113883.4.7|ORG-42"},
		"partof":       {"Organization/org-0 -> Organization/org-0"},
		"type":         {"http://terminology.hl7.org/CodeSystem/organization-type|prov"},
		"address-city": {"springfield"},
	})
}

func TestExtractIndexEdgeCases(t *testing.T) {
	checkIndex(t, decode(t, []byte(`{
		"resourceType": "Observation",
		"subject": {"reference": "urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b", "type": "Patient"},
		"effectivePeriod": {"start": "2024-05"},
		"code": {"text": "free text only"}
	}`)), map[string][]string{
		"subject": {"urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b -> /"},
		"patient": {"urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b -> /"},
		"date":    {"2024-05-01T00:00:00Z/9999-12-31T23:59:59Z"},
		"code":    {"| (free text only)"},
	})
	// A subject that is a Group is not a patient.
	checkIndex(t, decode(t, []byte(`{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`)), map[string][]string{
		"subject": {"Group/g1 -> Group/g1"},
		"patient": nil,
	})
	// Values of the wrong JSON type are ignored, not indexed and not fatal.
	checkIndex(t, decode(t, []byte(`{"resourceType":"Patient","name":"Ann","birthDate":19900512,"gender":{"x":1},"managingOrganization":"Organization/1"}`)), map[string][]string{
		"name": nil, "birthdate": nil, "gender": nil, "organization": nil,
	})
	if got := ExtractIndex(map[string]any{"resourceType": "Unicorn"}); got != nil {
		t.Errorf("unknown type: %+v", got)
	}
	if got := ExtractIndex(nil); got != nil {
		t.Errorf("nil resource: %+v", got)
	}
}

func TestSearchParams(t *testing.T) {
	p := SearchParams("Patient")
	want := map[string]SearchParam{
		"birthdate":    {Code: "birthdate", Type: TypeDate, Expression: "Patient.birthDate"},
		"organization": {Code: "organization", Type: TypeReference, Expression: "Patient.managingOrganization", Targets: []string{"Organization"}},
		"given":        {Code: "given", Type: TypeString, Expression: "Patient.name.given"},
		"_id":          {Code: "_id", Type: TypeToken, Expression: "Patient.id"},
		"_lastUpdated": {Code: "_lastUpdated", Type: TypeDate, Expression: "Patient.meta.lastUpdated"},
	}
	for code, w := range want {
		g, ok := p[code]
		if !ok || g.Code != w.Code || g.Type != w.Type || g.Expression != w.Expression || !slices.Equal(g.Targets, w.Targets) {
			t.Errorf("Patient %s: got %+v, want %+v", code, g, w)
		}
	}
	if _, ok := p["_text"]; !ok {
		t.Error("Patient, a DomainResource, should have _text")
	}
	if _, ok := SearchParams("Bundle")["_text"]; ok {
		t.Error("Bundle is not a DomainResource and should not have _text")
	}
	if got := SearchParams("Observation")["patient"]; got.Expression != "Observation.subject.where(resolve() is Patient)" || !slices.Equal(got.Targets, []string{"Patient"}) {
		t.Errorf("Observation patient: %+v", got)
	}
	if got := SearchParams("Encounter")["date"]; got.Expression != "Encounter.period" {
		t.Errorf("Encounter date: %+v", got)
	}
	if SearchParams("Unicorn") != nil {
		t.Error("unknown type should have no parameters")
	}
	// The caller owns the copy.
	p["birthdate"] = SearchParam{Code: "changed"}
	if SearchParams("Patient")["birthdate"].Code != "birthdate" {
		t.Error("SearchParams returned shared state")
	}
}

func TestEveryExtractableExpressionParses(t *testing.T) {
	// Most R4 expressions of the supported types must be understood; list the
	// ones that are not, so a regression shows.
	var skipped []string
	total := 0
	for _, rt := range ResourceTypes() {
		for _, p := range SearchParams(rt) {
			switch p.Type {
			case TypeString, TypeToken, TypeDate, TypeReference:
			default:
				continue
			}
			if p.Expression == "" {
				continue
			}
			for _, term := range splitUnion(p.Expression) {
				total++
				if _, err := parseFHIRPath(term); err != nil {
					skipped = append(skipped, rt+"."+p.Code+": "+term)
				}
			}
		}
	}
	if len(skipped)*20 > total {
		t.Errorf("%d of %d expression terms cannot be parsed, e.g. %s", len(skipped), total, strings.Join(skipped[:min(5, len(skipped))], "; "))
	}
}

func TestDateRange(t *testing.T) {
	tests := []struct{ in, start, end string }{
		{"1990", "1990-01-01T00:00:00Z", "1991-01-01T00:00:00Z"},
		{"1990-02", "1990-02-01T00:00:00Z", "1990-03-01T00:00:00Z"},
		{"1990-12-31", "1990-12-31T00:00:00Z", "1991-01-01T00:00:00Z"},
		{"2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:01Z"},
		{"2024-05-01T10:00:00+02:00", "2024-05-01T08:00:00Z", "2024-05-01T08:00:01Z"},
		{"2024-05-01T10:00:00.25Z", "2024-05-01T10:00:00.25Z", "2024-05-01T10:00:00.26Z"},
	}
	for _, tt := range tests {
		s, e, ok := DateRange(tt.in)
		if !ok || s.Format(time.RFC3339Nano) != tt.start || e.Format(time.RFC3339Nano) != tt.end {
			t.Errorf("DateRange(%q) = %v, %v, %v; want %s, %s", tt.in, s, e, ok, tt.start, tt.end)
		}
	}
	for _, bad := range []string{"", "soon", "1990-13", "2023-02-29", "90-01-01", "2024-05-01T25:00:00Z"} {
		if _, _, ok := DateRange(bad); ok {
			t.Errorf("DateRange(%q) should fail", bad)
		}
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{"Müller": "muller", " ÉLODIE ": "elodie", "Ñúñez-Ågren": "nunez-agren", "abc": "abc"} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReferences(t *testing.T) {
	got := References(load(t, "valid/observation.json"))
	want := []Reference{
		{Path: "Observation.subject", Reference: "Patient/pat-1", Type: "Patient", ID: "pat-1"},
		{Path: "Observation.encounter", Reference: "Encounter/enc-1", Type: "Encounter", ID: "enc-1"},
		{Path: "Observation.performer[0]", Reference: "Practitioner/prac-1", Type: "Practitioner", ID: "prac-1"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Observation references:\n got %+v\nwant %+v", got, want)
	}

	got = References(decode(t, []byte(`{
		"resourceType": "Bundle", "type": "collection",
		"entry": [{"resource": {
			"resourceType": "Encounter",
			"contained": [{"resourceType": "Patient", "id": "p", "managingOrganization": {"reference": "Organization/o1/_history/2"}}],
			"subject": {"reference": "#p"},
			"participant": [{"individual": {"reference": "http://other.example/fhir/Practitioner/9"}}],
			"location": [{"location": {"reference": "urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b"}}, {"location": {"display": "no reference"}}],
			"extension": [{"url": "http://x", "valueReference": {"reference": "Device/d1"}}]
		}}]
	}`)))
	want = []Reference{
		{Path: "Bundle.entry[0].resource.contained[0].managingOrganization", Reference: "Organization/o1/_history/2", Type: "Organization", ID: "o1"},
		{Path: "Bundle.entry[0].resource.extension[0].valueReference", Reference: "Device/d1", Type: "Device", ID: "d1"},
		{Path: "Bundle.entry[0].resource.participant[0].individual", Reference: "http://other.example/fhir/Practitioner/9"},
		{Path: "Bundle.entry[0].resource.location[0].location", Reference: "urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("nested references:\n got %+v\nwant %+v", got, want)
	}
	if got := References(map[string]any{"resourceType": "Patient", "managingOrganization": "Organization/1"}); got != nil {
		t.Errorf("a string is not a Reference: %+v", got)
	}
	if got := References(map[string]any{"resourceType": "Unicorn", "x": map[string]any{"reference": "Patient/1"}}); got != nil {
		t.Errorf("unknown type: %+v", got)
	}
}

// TestCoveredParameters: a parameter whose expression another one's union
// holds is indexed once, under the covering parameter; its search reads
// both, and its values (for _include and the like) are still all of them.
func TestCoveredParameters(t *testing.T) {
	for _, c := range []struct {
		typ, code string
		want      []string
	}{
		{"Patient", "phonetic", []string{"phonetic", "name"}},
		{"Patient", "name", []string{"name"}},
		{"Patient", "family", []string{"family"}},
		{"Practitioner", "phonetic", []string{"phonetic", "name"}},
		{"Organization", "name", []string{"name", "phonetic"}},
		{"Observation", "combo-code", []string{"combo-code", "code", "component-code"}},
		{"Observation", "combo-value-quantity", []string{"combo-value-quantity", "value-quantity", "component-value-quantity"}},
		{"Observation", "code", []string{"code"}},
		{"Observation", "combo-code-value-quantity", []string{"combo-code-value-quantity", "code-value-quantity", "component-code-value-quantity"}},
		{"Observation", "combo-code-value-concept", []string{"combo-code-value-concept", "code-value-concept", "component-code-value-concept"}},
		{"Observation", "code-value-quantity", []string{"code-value-quantity"}},
		// References keep their own rows: their targets differ.
		{"Observation", "subject", []string{"subject"}},
		{"Observation", "patient", []string{"patient"}},
	} {
		if got := StoredParams(c.typ, c.code); !slices.Equal(got, c.want) {
			t.Errorf("StoredParams(%s, %s) = %q, want %q", c.typ, c.code, got, c.want)
		}
	}

	patient := load(t, "valid/patient.json")
	got := indexOf(patient)
	if len(got["phonetic"]) != 0 {
		t.Errorf("a Patient's phonetic rows are its name's: got %q of its own", got["phonetic"])
	}
	if !slices.Equal(got["name"], []string{"muller", "ann", "marie", "dr.", "annie"}) {
		t.Errorf("name: %q", got["name"])
	}
	var phonetic []string
	for _, v := range ParamValues(patient, "phonetic") {
		phonetic = append(phonetic, v.Text)
	}
	if !slices.Equal(phonetic, got["name"]) {
		t.Errorf("ParamValues(phonetic) = %q, want the name's %q", phonetic, got["name"])
	}

	obs := decode(t, []byte(`{"resourceType": "Observation", "status": "final",
		"code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
		"component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
			"valueQuantity": {"value": 120, "unit": "mmHg"}}]}`))
	got = indexOf(obs)
	for _, code := range []string{"combo-code", "combo-value-quantity"} {
		if len(got[code]) != 0 {
			t.Errorf("%s has rows of its own: %q", code, got[code])
		}
	}
	if !slices.Equal(got["code"], []string{"http://loinc.org|85354-9"}) || !slices.Equal(got["component-code"], []string{"http://loinc.org|8480-6"}) {
		t.Errorf("code %q, component-code %q", got["code"], got["component-code"])
	}
	composites := ExtractComposites(obs)
	if len(composites) != 1 {
		t.Errorf("%d composite rows, want the component's one", len(composites))
	}
	for _, c := range composites {
		if c.Param != "component-code-value-quantity" || c.Code != "8480-6" {
			t.Errorf("composite row %s %s: only component-code-value-quantity pairs 8480-6 with 120", c.Param, c.Code)
		}
	}
	if n := len(ParamValues(obs, "combo-code")); n != 2 {
		t.Errorf("ParamValues(combo-code) has %d values, want both codes", n)
	}
}

// coveredSamples are resources whose covered parameters have values: the
// shipped examples, an Organization with an alias and a blood pressure
// with a component.
func coveredSamples(t *testing.T) []map[string]any {
	files, err := filepath.Glob("testdata/valid/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	var out []map[string]any
	for _, f := range files {
		out = append(out, load(t, strings.TrimPrefix(f, "testdata/")))
	}
	for _, s := range []string{
		`{"resourceType": "Organization", "name": "Acme Clinic", "alias": ["Roadrunner"]}`,
		`{"resourceType": "Observation", "status": "final",
		"code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
		"valueQuantity": {"value": 72, "unit": "kg"},
		"valueCodeableConcept": {"coding": [{"code": "high"}]},
		"component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
			"valueQuantity": {"value": 120, "unit": "mmHg"}},
			{"code": {"coding": [{"code": "x"}]}, "valueCodeableConcept": {"coding": [{"code": "low"}]},
			"dataAbsentReason": {"coding": [{"code": "masked"}]}}]}`,
	} {
		out = append(out, decode(t, []byte(s)))
	}
	return out
}

// TestStoredParamsHoldEveryValue: for every parameter of the samples, the
// rows ExtractIndex keeps under the codes StoredParams names are exactly
// the values its whole expression finds (ParamValues).
func TestStoredParamsHoldEveryValue(t *testing.T) {
	covered := 0
	for _, r := range coveredSamples(t) {
		rt := r["resourceType"].(string)
		rows := ExtractIndex(r)
		for code := range SearchParams(rt) {
			stored := StoredParams(rt, code)
			if len(stored) > 1 {
				covered++
			}
			want, got := map[IndexValue]bool{}, map[IndexValue]bool{}
			for _, v := range ParamValues(r, code) {
				v.Param = ""
				want[v] = true
			}
			for _, v := range rows {
				if slices.Contains(stored, v.Param) {
					v.Param = ""
					got[v] = true
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s %s: rows under %q hold %d values, its expression finds %d", rt, code, stored, len(got), len(want))
			}
		}
	}
	if covered < 8 {
		t.Errorf("only %d covered parameters among the samples", covered)
	}
}

// TestStoredCompositesHoldEveryValue does for composites what
// TestStoredParamsHoldEveryValue does for the other parameters.
func TestStoredCompositesHoldEveryValue(t *testing.T) {
	covered := 0
	for _, r := range coveredSamples(t) {
		rt := r["resourceType"].(string)
		rows := ExtractComposites(r)
		for _, c := range defs().composites[rt] {
			stored := StoredParams(rt, c.code)
			want, got := map[CompositeValue]bool{}, map[CompositeValue]bool{}
			whole := c
			whole.roots = parseTerms(c.texts)
			for _, v := range defs().compositeValues(whole, r, rt) {
				v.Param, v.Value.Param = "", ""
				want[v] = true
			}
			if len(stored) > 1 && len(want) > 0 {
				covered++
			}
			for _, v := range rows {
				if slices.Contains(stored, v.Param) {
					v.Param, v.Value.Param = "", ""
					got[v] = true
				}
			}
			if !maps.Equal(got, want) {
				t.Errorf("%s %s: rows under %q hold %d values, its expression finds %d", rt, c.code, stored, len(got), len(want))
			}
		}
	}
	if covered < 2 {
		t.Errorf("only %d covered composites with values among the samples", covered)
	}
}
