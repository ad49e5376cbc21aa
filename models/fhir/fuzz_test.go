package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzValidate feeds arbitrary JSON objects to Validate, ExtractIndex,
// ExtractComposites and References: whatever the input, they must return without panicking, and
// strict validation must report at least what non-strict validation does.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{}`, `{"resourceType":"Patient","_given":[null]}`, `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle"}}]}`,
		`{"resourceType":"Observation","valueQuantity":[],"component":[{"referenceRange":[{"low":null}]}]}`,
		`{"resourceType":"Encounter","period":{"start":"2020-01-01T10:00:00.1234567890123+14:00"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var r map[string]any
		if d.Decode(&r) != nil {
			return
		}
		strict := Validate(r, true)
		loose := Validate(r, false)
		if len(loose) > 0 && len(strict) == 0 {
			t.Fatalf("non-strict found %v but strict found nothing", loose)
		}
		for _, v := range ExtractIndex(r) {
			if v.Param == "" || v.Type == "" {
				t.Fatalf("index value without parameter: %+v", v)
			}
		}
		for _, c := range ExtractComposites(r) {
			if c.Param == "" || c.Code == "" || c.Value.Type == "" {
				t.Fatalf("composite row without parameter, code or value: %+v", c)
			}
		}
		References(r)
	})
}

func BenchmarkValidateObservation(b *testing.B) {
	r := load(b, "valid/observation.json")
	Validate(r, true) // load the definitions outside the timing
	b.ReportAllocs()
	for b.Loop() {
		if issues := Validate(r, true); issues != nil {
			b.Fatal(issues)
		}
	}
}

func BenchmarkExtractIndexObservation(b *testing.B) {
	r := load(b, "valid/observation.json")
	ExtractIndex(r)
	b.ReportAllocs()
	for b.Loop() {
		ExtractIndex(r)
	}
}
