package fhir

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidExamplesPassStrictValidation(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.json")
	if len(files) < 5 {
		t.Fatalf("expected the valid examples, found %d", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := load(t, "valid/"+filepath.Base(f))
			if issues := Validate(r, true); issues != nil {
				t.Fatalf("valid resource rejected: %+v", issues)
			}
			if issues := Validate(r, false); issues != nil {
				t.Fatalf("valid resource rejected in non-strict mode: %+v", issues)
			}
		})
	}
}

// issueList renders issues as "code expression" for comparison.
func issueList(issues []Issue) []string {
	out := make([]string, len(issues))
	for i, is := range issues {
		out[i] = is.Code + " " + is.Expression
	}
	return out
}

func TestInvalidExamplesReportEveryProblem(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"patient.json", []string{
			"value Patient.id",
			"structure Patient.active",
			"value Patient.name[0].given[1]",
			"structure Patient.telecom",
			"structure Patient.gender",
			"value Patient.birthDate",
			"structure Patient.foo",
		}},
		{"observation-missing.json", []string{
			"required Observation.status",
			"required Observation.code",
		}},
		{"observation-codes.json", []string{
			"code-invalid Observation.status",
			"structure Observation.valueFoo",
		}},
		{"observation-choices.json", []string{
			"value Observation.effectiveDateTime",
			"structure Observation.valueString",
			"required Observation.component[0].code",
		}},
		{"encounter.json", []string{
			"structure Encounter.subject",
			"value Encounter.period.start",
			"structure Encounter.length.value",
			"code-invalid Encounter.location[0].status",
			"required Encounter.location[0].location",
			"required Encounter.status",
			"required Encounter.class",
		}},
		{"practitioner.json", []string{
			"code-invalid Practitioner.name[0].use",
			"code-invalid Practitioner.telecom[0].system",
			"code-invalid Practitioner.gender",
			"required Practitioner.qualification[0].code",
		}},
		{"organization.json", []string{
			"value Organization.contained[0].birthDate",
			"structure Organization.contained[1]",
			"required Organization.extension[0].url",
			"value Organization.identifier[0].period.start",
			"structure Organization.active",
			"structure Organization.name",
			"invariant Organization.telecom[0]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			issues := Validate(load(t, "invalid/"+tt.file), true)
			got := issueList(issues)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("issues:\n got %q\nwant %q", got, tt.want)
			}
			for _, is := range issues {
				if is.Severity != "error" || is.Message == "" {
					t.Errorf("issue %+v: want severity error and a message", is)
				}
			}
		})
	}
}

func TestValidationMessagesNameTheProblem(t *testing.T) {
	issues := Validate(load(t, "invalid/observation-codes.json"), true)
	if len(issues) != 2 {
		t.Fatalf("issues: %+v", issues)
	}
	if m := issues[0].Message; !strings.Contains(m, `"done"`) || !strings.Contains(m, "http://hl7.org/fhir/ValueSet/observation-status") {
		t.Errorf("status message %q should name the value and the value set", m)
	}
	if m := issues[1].Message; !strings.Contains(m, "Foo") || !strings.Contains(m, "Quantity") {
		t.Errorf("choice message %q should name the bad type and the allowed ones", m)
	}
}

func TestNonStrictChecksOnlyShape(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string
	}{
		{"unknown elements and bad values pass", `{"resourceType":"Patient","foo":1,"gender":["x"],"birthDate":"soon"}`, nil},
		{"bad id", `{"resourceType":"Patient","id":"no spaces allowed"}`, []string{"value Patient.id"}},
		{"id too long", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`, []string{"value Patient.id"}},
		{"id not a string", `{"resourceType":"Patient","id":12}`, []string{"structure Patient.id"}},
		{"missing resourceType", `{"id":"a"}`, []string{"required resourceType"}},
		{"resourceType not a string", `{"resourceType":7}`, []string{"structure resourceType"}},
		{"unknown resourceType", `{"resourceType":"Unicorn"}`, []string{"not-supported resourceType"}},
		{"abstract resourceType", `{"resourceType":"DomainResource"}`, []string{"not-supported resourceType"}},
		{"bad meta", `{"resourceType":"Patient","meta":{"versionId":"1 2","lastUpdated":"2020-01-01"}}`, []string{"value Patient.meta.versionId", "value Patient.meta.lastUpdated"}},
		{"meta not an object", `{"resourceType":"Patient","meta":[]}`, []string{"structure Patient.meta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := issueList(Validate(decode(t, []byte(tt.json)), false))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	if got := Validate(nil, false); len(got) != 1 || got[0].Code != "structure" {
		t.Errorf("nil resource: %+v", got)
	}
}

func TestStrictShapeRulesMatchNonStrict(t *testing.T) {
	for _, js := range []string{`{"id":"a"}`, `{"resourceType":"Unicorn"}`} {
		strict := issueList(Validate(decode(t, []byte(js)), true))
		loose := issueList(Validate(decode(t, []byte(js)), false))
		if strings.Join(strict, ",") != strings.Join(loose, ",") || len(strict) != 1 {
			t.Errorf("%s: strict %q, non-strict %q", js, strict, loose)
		}
	}
}

func TestPrimitiveFormats(t *testing.T) {
	tests := []struct {
		template string // %s is replaced by the JSON value
		expr     string
		good     []string
		bad      []string
	}{
		{`{"resourceType":"Patient","birthDate":%s}`, "Patient.birthDate",
			[]string{`"1990"`, `"1990-05"`, `"2024-02-29"`},
			[]string{`"90"`, `"1990-5-1"`, `"2023-02-29"`, `"1990-05-12T10:00:00Z"`, `""`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":%s}`, "Observation.effectiveDateTime",
			[]string{`"2024"`, `"2024-05-01"`, `"2024-05-01T10:00:00Z"`, `"2024-05-01T10:00:00.5+02:00"`},
			[]string{`"2024-05-01T10:00:00"`, `"2024-05-01T25:00:00Z"`, `"2024-05-01 10:00"`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":%s}`, "Observation.issued",
			[]string{`"2024-05-01T10:00:00Z"`, `"2024-05-01T10:00:00.123-05:00"`},
			[]string{`"2024-05-01"`, `"2024-05-01T10:00Z"`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":%s}`, "Observation.valueTime",
			[]string{`"10:30:00"`, `"23:59:59.999"`},
			[]string{`"10:30"`, `"24:00:00"`}},
		{`{"resourceType":"Patient","id":%s}`, "Patient.id",
			[]string{`"a-b.C9"`, `"` + strings.Repeat("x", 64) + `"`},
			[]string{`"a_b"`, `"a/b"`, `""`}},
		{`{"resourceType":"Patient","implicitRules":%s}`, "Patient.implicitRules",
			[]string{`"http://example.org/rules"`, `"urn:uuid:0b0c8e5c-3f6a-4b8e-9d6e-6a1c1c2f3a4b"`},
			[]string{`"has space"`, `""`, `true`}},
		{`{"resourceType":"Patient","meta":{"profile":[%s]}}`, "Patient.meta.profile[0]",
			[]string{`"http://hl7.org/fhir/StructureDefinition/Patient|4.0.1"`},
			[]string{`"a b"`}},
		{`{"resourceType":"Patient","language":%s}`, "Patient.language",
			[]string{`"de-CH"`, `"two words"`},
			[]string{`" leading"`, `"double  space"`, `1`}},
		{`{"resourceType":"Patient","active":%s}`, "Patient.active",
			[]string{`true`, `false`},
			[]string{`"true"`, `1`, `null`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueInteger":%s}`, "Observation.valueInteger",
			[]string{`0`, `-5`, `2147483647`},
			[]string{`1.5`, `2147483648`, `"1"`, `1e3`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueSampledData":{"origin":{"value":0},"period":1,"dimensions":%s}}`, "Observation.valueSampledData.dimensions",
			[]string{`1`, `3`},
			[]string{`0`, `-1`}},
		{`{"resourceType":"Patient","photo":[{"size":%s}]}`, "Patient.photo[0].size",
			[]string{`0`, `1024`},
			[]string{`-1`, `0.5`}},
		{`{"resourceType":"Patient","photo":[{"data":%s}]}`, "Patient.photo[0].data",
			[]string{`"aGVsbG8="`, `"aGVs bG8="`},
			[]string{`"hello!"`, `"aGVsbG8"`}},
		{`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":%s}}`, "Observation.valueQuantity.value",
			[]string{`1`, `-0.25`, `6.02e23`},
			[]string{`"1"`, `true`}},
		{`{"resourceType":"Patient","name":[{"family":%s}]}`, "Patient.name[0].family",
			[]string{`"O'Brien"`, `"Ñúñez"`},
			[]string{`""`, `"   "`, `["a"]`, `{"a":1}`}},
	}
	for _, tt := range tests {
		for _, v := range tt.good {
			r := decode(t, []byte(fmt.Sprintf(tt.template, v)))
			if issues := Validate(r, true); issues != nil {
				t.Errorf("%s = %s rejected: %+v", tt.expr, v, issues)
			}
		}
		for _, v := range tt.bad {
			r := decode(t, []byte(fmt.Sprintf(tt.template, v)))
			issues := Validate(r, true)
			if len(issues) != 1 || issues[0].Expression != tt.expr {
				t.Errorf("%s = %s: want one issue at %s, got %+v", tt.expr, v, tt.expr, issues)
			}
		}
	}
}

func TestPrimitiveExtensions(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://x","valueString":"unknown"}]}}`, nil},
		{`{"resourceType":"Patient","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"http://x","valueCode":"masked"}]}]}]}`, nil},
		{`{"resourceType":"Patient","name":[{"given":["A",null]}]}`, []string{"structure Patient.name[0].given[1]"}},
		{`{"resourceType":"Patient","_birthDate":{"foo":1}}`, []string{"structure Patient.birthDate.foo"}},
		{`{"resourceType":"Patient","_name":{"id":"x"}}`, []string{"structure Patient._name"}},
		{`{"resourceType":"Patient","_bogus":{"id":"x"}}`, []string{"structure Patient._bogus"}},
	}
	for _, tt := range tests {
		got := issueList(Validate(decode(t, []byte(tt.json)), true))
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.json, got, tt.want)
		}
	}
}

func TestRequiredBindingsOnCodings(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`{"resourceType":"Patient","gender":"other"}`, nil},
		// Meta.security has an extensible binding: any code is accepted.
		{`{"resourceType":"Patient","meta":{"security":[{"system":"http://example.org","code":"anything"}]}}`, nil},
		// A required CodeableConcept binding: Condition.clinicalStatus.
		{`{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}}`, nil},
		{`{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://example.org","code":"x"},{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"resolved"}]}}`, nil},
		{`{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"gone"}]}}`, []string{"code-invalid Condition.clinicalStatus"}},
		{`{"resourceType":"Condition","subject":{"reference":"Patient/1"},"clinicalStatus":{"coding":[{"system":"http://example.org","code":"active"}]}}`, []string{"code-invalid Condition.clinicalStatus"}},
	}
	for _, tt := range tests {
		got := issueList(Validate(decode(t, []byte(tt.json)), true))
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.json, got, tt.want)
		}
	}
}

func TestValidateSurvivesDeepNesting(t *testing.T) {
	js := `{"resourceType":"Patient","extension":[` + strings.Repeat(`{"url":"http://x","extension":[`, 200) + `{"url":"http://x","valueString":"deep"}` + strings.Repeat(`]}`, 200) + `]}`
	issues := Validate(decode(t, []byte(js)), true)
	if len(issues) != 1 || issues[0].Code != "structure" {
		t.Fatalf("want one structure issue for excessive nesting, got %d: %+v", len(issues), issues)
	}
}

func TestResourceTypes(t *testing.T) {
	types := ResourceTypes()
	if len(types) < 140 {
		t.Fatalf("only %d resource types", len(types))
	}
	for i := 1; i < len(types); i++ {
		if types[i-1] >= types[i] {
			t.Fatalf("not sorted at %q", types[i])
		}
	}
	for _, rt := range []string{"Patient", "Observation", "Encounter", "Practitioner", "Organization", "Bundle", "StructureDefinition"} {
		if !IsResourceType(rt) {
			t.Errorf("%s should be a resource type", rt)
		}
	}
	for _, rt := range []string{"", "patient", "Resource", "DomainResource", "HumanName", "string", "Unicorn"} {
		if IsResourceType(rt) {
			t.Errorf("%q should not be a resource type", rt)
		}
	}
}
