package fhir

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
)

//go:embed data/defs.json.gz
var defsGz []byte

// defsFile is the shape cmd/fhirgen writes to data/defs.json.gz.
type defsFile struct {
	Types map[string]struct {
		Kind     string `json:"kind"`
		Abstract bool   `json:"abstract"`
		Elements []struct {
			Path       string   `json:"path"`
			Min        int      `json:"min"`
			Max        string   `json:"max"`
			Types      []string `json:"types"`
			ContentRef string   `json:"contentRef"`
			Binding    string   `json:"binding"`
		} `json:"elements"`
	} `json:"types"`
	ValueSets    map[string][]string `json:"valueSets"`
	SearchParams []struct {
		ID         string   `json:"id"`
		Code       string   `json:"code"`
		Type       string   `json:"type"`
		Base       []string `json:"base"`
		Expression string   `json:"expression"`
		Target     []string `json:"target"`
	} `json:"searchParams"`
}

// element is one element definition of a type's snapshot.
type element struct {
	path       string // e.g. "Observation.value[x]"
	name       string // last segment without "[x]", e.g. "value"
	min        int
	many       bool // max is "*" or above 1
	prohibited bool // max is "0"
	choice     bool
	types      []string
	contentRef string // path whose children this element reuses
	binding    *valueSet
	order      int // position among its siblings
}

// valueSet holds the codes of an expanded ValueSet.
type valueSet struct {
	url   string
	codes map[string]bool // plain codes
	pairs map[string]bool // "system|code"
}

type typeInfo struct {
	kind     string // "resource", "complex-type" or "primitive-type"
	abstract bool
}

// definitions is the decoded, indexed content of defs.json.gz.
type definitions struct {
	types         map[string]typeInfo
	resourceTypes []string
	children      map[string][]*element // parent path -> child elements in snapshot order
	searchParams  map[string]map[string]SearchParam
	compiled      map[string][]compiledParam     // per resource type, by code
	stored        map[string]map[string][]string // per resource type: covered code -> codes whose rows answer it
	composites    map[string][]compiledComposite // supported composite parameters per resource type
}

var (
	defsOnce sync.Once
	defsData *definitions
)

// defs returns the definitions, decoding them on first use.
func defs() *definitions {
	defsOnce.Do(func() {
		d, err := loadDefinitions(defsGz)
		if err != nil {
			// The file is generated and embedded; a failure here is a build defect.
			panic("fhir: embedded definitions are corrupt: " + err.Error())
		}
		defsData = d
	})
	return defsData
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

func loadDefinitions(gz []byte) (*definitions, error) {
	raw, err := gunzip(gz)
	if err != nil {
		return nil, err
	}
	var f defsFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	valueSets := make(map[string]*valueSet, len(f.ValueSets))
	for url, codes := range f.ValueSets {
		vs := &valueSet{url: url, codes: map[string]bool{}, pairs: map[string]bool{}}
		for _, c := range codes {
			vs.pairs[c] = true
			if i := strings.LastIndexByte(c, '|'); i >= 0 {
				vs.codes[c[i+1:]] = true
			}
		}
		valueSets[url] = vs
	}
	d := &definitions{
		types:        make(map[string]typeInfo, len(f.Types)),
		children:     map[string][]*element{},
		searchParams: map[string]map[string]SearchParam{},
	}
	for name, t := range f.Types {
		d.types[name] = typeInfo{kind: t.Kind, abstract: t.Abstract}
		if t.Kind == "resource" && !t.Abstract {
			d.resourceTypes = append(d.resourceTypes, name)
		}
		if t.Kind == "primitive-type" {
			continue
		}
		for _, e := range t.Elements {
			dot := strings.LastIndexByte(e.Path, '.')
			if dot < 0 {
				continue
			}
			parent, name := e.Path[:dot], e.Path[dot+1:]
			el := &element{
				path: e.Path, name: strings.TrimSuffix(name, "[x]"), min: e.Min,
				many: e.Max == "*" || (e.Max != "0" && e.Max != "1"), prohibited: e.Max == "0",
				choice: strings.HasSuffix(name, "[x]"), types: e.Types, contentRef: e.ContentRef,
				order: len(d.children[parent]),
			}
			if e.Binding != "" {
				el.binding = valueSets[e.Binding]
			}
			// A resource's own id is an id, though R4 declares it as a FHIRPath string.
			if name == "id" && parent == strings.SplitN(e.Path, ".", 2)[0] && t.Kind == "resource" {
				el.types = []string{"id"}
			}
			d.children[parent] = append(d.children[parent], el)
		}
	}
	sort.Strings(d.resourceTypes)
	d.indexSearchParams(f)
	return d, nil
}

// child finds the element named name (a JSON property, possibly a choice such
// as "valueQuantity") below the parent path. It returns the element and, for
// choices, the chosen type; el is nil when no element matches.
func (d *definitions) child(parent, name string) (el *element, chosen string) {
	for _, e := range d.children[parent] {
		if !e.choice {
			if e.name == name {
				return e, ""
			}
			continue
		}
		if !strings.HasPrefix(name, e.name) {
			continue
		}
		suffix := name[len(e.name):]
		for _, t := range e.types {
			if upperFirst(t) == suffix {
				return e, t
			}
		}
	}
	return nil, ""
}

// choiceBase returns the choice element whose name is a prefix of name followed
// by an upper-case letter, for reporting a choice with a type it does not allow.
func (d *definitions) choiceBase(parent, name string) *element {
	for _, e := range d.children[parent] {
		if e.choice && len(name) > len(e.name) && strings.HasPrefix(name, e.name) {
			if c := name[len(e.name)]; c >= 'A' && c <= 'Z' {
				return e
			}
		}
	}
	return nil
}

// childPath is the path whose children describe the content of el when its
// value is an object of type typ.
func (d *definitions) childPath(el *element, typ string) string {
	if el.contentRef != "" {
		return el.contentRef
	}
	if (typ == "BackboneElement" || typ == "Element") && len(d.children[el.path]) > 0 {
		return el.path
	}
	return typ
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func isResourceType(t string) bool {
	info, ok := defs().types[t]
	return ok && info.kind == "resource" && !info.abstract
}

func resourceTypes() []string {
	return append([]string(nil), defs().resourceTypes...)
}
