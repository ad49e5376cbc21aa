package handlers

import (
	"net/url"
	"testing"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"resourceType":"Patient","name":[{"given":["Ada","Augusta"],"family":"Lovelace"}]}`, "Ada Augusta Lovelace"},
		{`{"resourceType":"Patient","name":[{"use":"old"},{"text":"Grace Hopper"}]}`, "Grace Hopper"},
		{`{"resourceType":"Practitioner","name":[{"prefix":["Dr"],"family":"Who"}]}`, "Dr Who"},
		{`{"resourceType":"Organization","name":"St. Elsewhere"}`, "St. Elsewhere"},
		{`{"resourceType":"Observation","code":{"coding":[{"code":"8867-4","display":"Heart rate"}]},"valueQuantity":{"value":72,"unit":"/min"}}`, "Heart rate: 72 /min"},
		{`{"resourceType":"Observation","code":{"text":"Smoker","coding":[{"code":"x"}]},"valueBoolean":true}`, "Smoker: true"},
		{`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006"}]}}`, "44054006"},
		{`{"resourceType":"MedicationRequest","medicationCodeableConcept":{"text":"Aspirin 100 mg"}}`, "Aspirin 100 mg"},
		{`{"resourceType":"Encounter","class":{"code":"AMB","display":"ambulatory"},"type":[{"text":"Check-up"}],"period":{"start":"2024-05-01"}}`, "ambulatory · Check-up · 2024-05-01"},
		{`{"resourceType":"Questionnaire","title":"PHQ-9"}`, "PHQ-9"},
		{`{"resourceType":"Basic"}`, ""},
		{`{"resourceType":"Patient","name":"not a list of names","code":7}`, "not a list of names"},
		{`{"resourceType":"Patient","name":[42,{"given":[1]}]}`, ""},
		{`not json`, ""},
	} {
		if got := summarize([]byte(tc.json)); got != tc.want {
			t.Errorf("summarize(%s) = %q, want %q", tc.json, got, tc.want)
		}
	}
}

func TestElement(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{map[string]any{"reference": "Patient/1", "display": "Ada"}, "Ada (Patient/1)"},
		{map[string]any{"system": "urn:oid:1", "value": "123"}, "urn:oid:1|123"},
		{map[string]any{"start": "2020", "end": "2021"}, "2020 – 2021"},
		{map[string]any{"coding": []any{map[string]any{"code": "final"}}}, "final"},
		{map[string]any{"code": "AMB"}, "AMB"},
		{"plain", "plain"},
		{nil, ""},
	} {
		if got := element(tc.v); got != tc.want {
			t.Errorf("element(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestSearchParams(t *testing.T) {
	in := url.Values{"name": {" smith ", ""}, "gender": {""}, "q": {"Patient?birthdate=ge1990&name=jo"}, "deleted": {"abc"}}
	got, err := searchParams("Patient", in)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{"name": {"smith", "jo"}, "birthdate": {"ge1990"}, "_sort": {"-_lastUpdated"}, "_count": {"20"}}
	if got.Encode() != want.Encode() {
		t.Errorf("searchParams = %s, want %s", got.Encode(), want.Encode())
	}
	// Shared definitions cannot be sorted, so no default sort for them.
	got, err = searchParams("ValueSet", url.Values{"_sort": {""}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Has("_sort") {
		t.Errorf("ValueSet gets a sort: %s", got.Encode())
	}
	if _, err := searchParams("Patient", url.Values{"q": {"name=%zz"}}); err == nil {
		t.Error("a malformed free query is accepted")
	}
}
