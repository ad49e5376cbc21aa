package projectops_test

import (
	"encoding/json"
	"testing"

	"enclave/models/projectops"
)

// TestRewriteResource: the copy's id and meta are the new ones, and every
// relative reference to a copied resource names its copy, in contained and
// nested elements and with a version, while other references stay.
func TestRewriteResource(t *testing.T) {
	ids := map[string]string{"Patient/p1": "P1", "Practitioner/d1": "D1", "Observation/o1": "O1"}
	stored := `{"resourceType":"Observation","id":"o1","meta":{"lastUpdated":"2020-01-01T00:00:00.000000Z","project":"old","tag":[{"code":"x"}],"versionId":"7"},` +
		`"contained":[{"id":"c","resourceType":"Provenance","target":[{"reference":"Patient/p1/_history/3"}]}],` +
		`"note":[{"text":"see \"reference\":\"Patient/p1\" here"}],` +
		`"performer":[{"reference":"#c"},{"reference":"Practitioner/d1"},{"reference":"Practitioner/other"},{"reference":"https://x.org/Patient/p1"}],` +
		`"status":"final","subject":{"display":"P","reference":"Patient/p1"}}`
	want := `{"resourceType":"Observation","id":"O1","meta":{"lastUpdated":"2026-01-02T03:04:05.000006Z","project":"new","tag":[{"code":"x"}],"versionId":"1"},` +
		`"contained":[{"id":"c","resourceType":"Provenance","target":[{"reference":"Patient/P1/_history/3"}]}],` +
		`"note":[{"text":"see \"reference\":\"Patient/p1\" here"}],` +
		`"performer":[{"reference":"#c"},{"reference":"Practitioner/D1"},{"reference":"Practitioner/other"},{"reference":"https://x.org/Patient/p1"}],` +
		`"status":"final","subject":{"display":"P","reference":"Patient/P1"}}`
	got, err := projectops.RewriteForTest(stored, "Observation", "o1", "O1", "new", ids)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("fast path:\n got %s\nwant %s", got, want)
	}

	// The same resource in another layout takes the slow path to the
	// same result.
	var v map[string]any
	if err := json.Unmarshal([]byte(stored), &v); err != nil {
		t.Fatal(err)
	}
	spaced, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err = projectops.RewriteForTest(string(spaced), "Observation", "o1", "O1", "new", ids)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("slow path:\n got %s\nwant %s", got, want)
	}

	// Metas of other shapes: a stamped member missing or not a string,
	// members with escapes, numbers and nesting around the stamped ones.
	for meta, wantMeta := range map[string]string{
		`{"versionId":"7"}`: `{"lastUpdated":"2026-01-02T03:04:05.000006Z","project":"new","versionId":"1"}`,
		`{"lastUpdated":"x","project":null,"versionId":"7"}`:                                                          `{"lastUpdated":"2026-01-02T03:04:05.000006Z","project":"new","versionId":"1"}`,
		`{"a\"b":1.50,"lastUpdated":"x","project":"p","source":"s,\"}{","tag":[{"c":[1,{"d":"}"}]}],"versionId":"7"}`: `{"a\"b":1.50,"lastUpdated":"2026-01-02T03:04:05.000006Z","project":"new","source":"s,\"}{","tag":[{"c":[1,{"d":"}"}]}],"versionId":"1"}`,
	} {
		got, err := projectops.RewriteForTest(`{"resourceType":"Patient","id":"p1","meta":`+meta+`,"active":true}`, "Patient", "p1", "P1", "new", ids)
		if want := `{"resourceType":"Patient","id":"P1","meta":` + wantMeta + `,"active":true}`; err != nil || got != want {
			t.Errorf("meta %s:\n got %s (%v)\nwant %s", meta, got, err, want)
		}
	}

	if _, err := projectops.RewriteForTest(`{"resourceType":"Observation","id":"o1","meta":{`, "Observation", "o1", "O1", "new", ids); err == nil {
		t.Error("truncated JSON was rewritten")
	}
}

func TestRewriteCriteria(t *testing.T) {
	ids := map[string]string{"Patient/p1": "P1", "Organization/org-1": "ORG"}
	for in, want := range map[string]string{
		"Observation?subject=Patient/p1":                         "Observation?subject=Patient/P1",
		"Patient?organization=Organization/org-1&name=Patient/x": "Patient?organization=Organization/ORG&name=Patient/x",
		"Patient?_id=p1": "Patient?_id=p1",
		"":               "",
	} {
		if got := projectops.RewriteCriteriaForTest(in, ids); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
