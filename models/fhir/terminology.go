package fhir

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// Concept is one code of a ValueSet's expansion or of a CodeSystem lookup.
type Concept struct {
	System, Version, Code, Display string
	Definition                     string
	Designations                   []Designation
}

// Designation is another representation of a concept: in another language,
// or for another use.
type Designation struct {
	Language string
	Use      *Coding
	Value    string
}

// Coding is a FHIR Coding's system, code and display.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// TermError is a terminology request the shared definitions cannot answer.
// Code is the OperationOutcome issue code: "not-found" (no such ValueSet or
// CodeSystem), "code-invalid" (no such code in the system) or
// "not-supported" (a ValueSet drawing on a code system, or a filter, that
// is not shipped). Message is safe to show.
type TermError struct {
	Code    string
	Message string
}

func (e *TermError) Error() string { return e.Message }

// ValueSetID finds the shared ValueSet with this canonical URL, optionally
// followed by "|version" (the shipped version, 4.0.1, is the only one).
func ValueSetID(canonical string) (string, error) {
	url, version, _ := strings.Cut(canonical, "|")
	t := terms()
	id, ok := t.valueSets[url]
	if !ok || (version != "" && version != t.vsDocs[id].Version) {
		return "", &TermError{Code: "not-found", Message: fmt.Sprintf("No ValueSet with the url %q is among the shared definitions", canonical)}
	}
	return id, nil
}

// Expansion is one page of a ValueSet's codes.
type Expansion struct {
	Total    int
	Contains []Concept
}

// ExpandValueSet expands the shared ValueSet id: its codes (those whose
// code or display contains filter, ignoring case, when filter is set), count
// of them from offset on. count < 0 means all of them.
func ExpandValueSet(id, filter string, offset, count int) (Expansion, error) {
	if _, ok := terms().vsDocs[id]; !ok {
		return Expansion{}, &TermError{Code: "not-found", Message: fmt.Sprintf("ValueSet/%s is not among the shared definitions", id)}
	}
	all, err := terms().expand(id, 0)
	if err != nil {
		return Expansion{}, err
	}
	if filter = strings.ToLower(strings.TrimSpace(filter)); filter != "" {
		var kept []Concept
		for _, c := range all {
			if strings.Contains(strings.ToLower(c.Code), filter) || strings.Contains(strings.ToLower(c.Display), filter) {
				kept = append(kept, c)
			}
		}
		all = kept
	}
	out := Expansion{Total: len(all)}
	offset = max(offset, 0)
	if offset >= len(all) {
		return out, nil
	}
	all = all[offset:]
	if count >= 0 && count < len(all) {
		all = all[:count]
	}
	out.Contains = append([]Concept(nil), all...)
	return out, nil
}

// Lookup is what CodeSystem/$lookup tells of a code.
type Lookup struct {
	Name, Version string // the code system's
	Concept
}

// LookupCode finds code in the shared CodeSystem whose canonical URL is
// system (optionally followed by "|version").
func LookupCode(system, code string) (Lookup, error) {
	url, version, _ := strings.Cut(system, "|")
	cs, ok := terms().codeSystems[url]
	if !ok || (version != "" && version != cs.doc.Version) {
		return Lookup{}, &TermError{Code: "not-found", Message: fmt.Sprintf("No CodeSystem with the url %q is among the shared definitions", system)}
	}
	if cs.doc.Content == "not-present" {
		return Lookup{}, &TermError{Code: "not-supported", Message: fmt.Sprintf("The codes of %s are not among the shared definitions", url)}
	}
	c, ok := cs.find(code)
	if !ok {
		return Lookup{}, &TermError{Code: "code-invalid", Message: fmt.Sprintf("%q is not a code of %s", code, url)}
	}
	return Lookup{Name: cs.doc.Name, Version: cs.doc.Version, Concept: c.concept(cs)}, nil
}

type csConcept struct {
	Code        string      `json:"code"`
	Display     string      `json:"display"`
	Definition  string      `json:"definition"`
	Designation []csDesig   `json:"designation"`
	Concept     []csConcept `json:"concept"`
}

type csDesig struct {
	Language string  `json:"language"`
	Use      *Coding `json:"use"`
	Value    string  `json:"value"`
}

type csDoc struct {
	ID            string      `json:"id"`
	URL           string      `json:"url"`
	Version       string      `json:"version"`
	Name          string      `json:"name"`
	Content       string      `json:"content"`
	CaseSensitive *bool       `json:"caseSensitive"`
	Concept       []csConcept `json:"concept"`
}

// codeSystem is one shared CodeSystem with its concepts indexed.
type codeSystem struct {
	doc   csDoc
	order []*csNode // every concept, depth first
	codes map[string]*csNode
}

type csNode struct {
	c        csConcept
	children []*csNode
}

func (n *csNode) concept(cs *codeSystem) Concept {
	out := Concept{System: cs.doc.URL, Version: cs.doc.Version, Code: n.c.Code, Display: n.c.Display, Definition: n.c.Definition}
	for _, d := range n.c.Designation {
		out.Designations = append(out.Designations, Designation(d))
	}
	return out
}

func (cs *codeSystem) find(code string) (*csNode, bool) {
	if n, ok := cs.codes[code]; ok {
		return n, true
	}
	if cs.doc.CaseSensitive != nil && !*cs.doc.CaseSensitive {
		for _, n := range cs.order {
			if strings.EqualFold(n.c.Code, code) {
				return n, true
			}
		}
	}
	return nil, false
}

// descendants lists n's children, their children and so on.
func (n *csNode) descendants() []*csNode {
	var out []*csNode
	for _, ch := range n.children {
		out = append(out, ch)
		out = append(out, ch.descendants()...)
	}
	return out
}

type vsInclude struct {
	System  string `json:"system"`
	Version string `json:"version"`
	Concept []struct {
		Code    string `json:"code"`
		Display string `json:"display"`
	} `json:"concept"`
	Filter []struct {
		Property string `json:"property"`
		Op       string `json:"op"`
		Value    string `json:"value"`
	} `json:"filter"`
	ValueSet []string `json:"valueSet"`
}

type vsContains struct {
	System   string       `json:"system"`
	Version  string       `json:"version"`
	Code     string       `json:"code"`
	Display  string       `json:"display"`
	Contains []vsContains `json:"contains"`
}

type vsDoc struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Version string `json:"version"`
	Compose *struct {
		Include []vsInclude `json:"include"`
		Exclude []vsInclude `json:"exclude"`
	} `json:"compose"`
	Expansion *struct {
		Contains []vsContains `json:"contains"`
	} `json:"expansion"`
}

// terminology indexes the shared ValueSets and CodeSystems and keeps the
// expansions made so far.
type terminology struct {
	codeSystems map[string]*codeSystem // by url
	valueSets   map[string]string      // url -> id
	vsDocs      map[string]vsDoc       // by id

	mu       sync.Mutex
	expanded map[string]expansionResult
}

type expansionResult struct {
	concepts []Concept
	err      error
}

var terms = sync.OnceValue(func() *terminology {
	t := &terminology{codeSystems: map[string]*codeSystem{}, valueSets: map[string]string{}, vsDocs: map[string]vsDoc{},
		expanded: map[string]expansionResult{}}
	for _, e := range systemIndex("CodeSystem") {
		b, _ := systemResource("CodeSystem", e.ID)
		var doc csDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			panic("fhir: embedded CodeSystem " + e.ID + " is corrupt: " + err.Error())
		}
		cs := &codeSystem{doc: doc, codes: map[string]*csNode{}}
		var walk func(cs []csConcept) []*csNode
		walk = func(concepts []csConcept) []*csNode {
			var nodes []*csNode
			for _, c := range concepts {
				n := &csNode{c: c}
				cs.order = append(cs.order, n)
				if _, dup := cs.codes[c.Code]; !dup {
					cs.codes[c.Code] = n
				}
				n.children = walk(c.Concept)
				nodes = append(nodes, n)
			}
			return nodes
		}
		walk(doc.Concept)
		t.codeSystems[doc.URL] = cs
	}
	for _, e := range systemIndex("ValueSet") {
		b, _ := systemResource("ValueSet", e.ID)
		var doc vsDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			panic("fhir: embedded ValueSet " + e.ID + " is corrupt: " + err.Error())
		}
		t.vsDocs[doc.ID] = doc
		t.valueSets[doc.URL] = doc.ID
	}
	return t
})

// maxValueSetDepth bounds ValueSets that include ValueSets.
const maxValueSetDepth = 8

// expand returns every code of ValueSet id, in the order its definition
// gives them, each once.
func (t *terminology) expand(id string, depth int) ([]Concept, error) {
	t.mu.Lock()
	r, ok := t.expanded[id]
	t.mu.Unlock()
	if ok {
		return r.concepts, r.err
	}
	if depth > maxValueSetDepth {
		return nil, &TermError{Code: "not-supported", Message: "ValueSet/" + id + " includes ValueSets nested too deep to expand"}
	}
	concepts, err := t.expandDoc(t.vsDocs[id], depth)
	if depth == 0 || err == nil {
		t.mu.Lock()
		t.expanded[id] = expansionResult{concepts, err}
		t.mu.Unlock()
	}
	return concepts, err
}

func (t *terminology) expandDoc(doc vsDoc, depth int) ([]Concept, error) {
	if doc.Compose == nil {
		if doc.Expansion == nil {
			return nil, &TermError{Code: "not-supported", Message: "ValueSet/" + doc.ID + " has neither a definition nor an expansion"}
		}
		var out []Concept
		var flatten func([]vsContains)
		flatten = func(cs []vsContains) {
			for _, c := range cs {
				if c.Code != "" {
					out = append(out, Concept{System: c.System, Version: c.Version, Code: c.Code, Display: c.Display})
				}
				flatten(c.Contains)
			}
		}
		flatten(doc.Expansion.Contains)
		return dedupe(out), nil
	}
	var out []Concept
	for _, inc := range doc.Compose.Include {
		cs, err := t.include(doc.ID, inc, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	excluded := map[string]bool{}
	for _, exc := range doc.Compose.Exclude {
		cs, err := t.include(doc.ID, exc, depth)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			excluded[c.System+"|"+c.Code] = true
		}
	}
	kept := out[:0]
	for _, c := range out {
		if !excluded[c.System+"|"+c.Code] {
			kept = append(kept, c)
		}
	}
	return dedupe(kept), nil
}

// include resolves one include (or exclude) of a ValueSet's compose: the
// codes of its system it names or filters, intersected with the ValueSets
// it names.
func (t *terminology) include(vsID string, inc vsInclude, depth int) ([]Concept, error) {
	var sets [][]Concept
	if inc.System != "" {
		cs, err := t.systemCodes(vsID, inc)
		if err != nil {
			return nil, err
		}
		sets = append(sets, cs)
	}
	for _, url := range inc.ValueSet {
		id, err := ValueSetID(url)
		if err != nil {
			return nil, &TermError{Code: "not-supported", Message: fmt.Sprintf("ValueSet/%s includes %s, which is not among the shared definitions", vsID, url)}
		}
		cs, err := t.expand(id, depth+1)
		if err != nil {
			return nil, err
		}
		sets = append(sets, cs)
	}
	if len(sets) == 0 {
		return nil, nil
	}
	out := sets[0]
	for _, s := range sets[1:] {
		in := map[string]bool{}
		for _, c := range s {
			in[c.System+"|"+c.Code] = true
		}
		var both []Concept
		for _, c := range out {
			if in[c.System+"|"+c.Code] {
				both = append(both, c)
			}
		}
		out = both
	}
	return out, nil
}

// systemCodes are the codes an include takes from its code system.
func (t *terminology) systemCodes(vsID string, inc vsInclude) ([]Concept, error) {
	cs := t.codeSystems[inc.System]
	if len(inc.Concept) > 0 {
		out := make([]Concept, 0, len(inc.Concept))
		for _, c := range inc.Concept {
			con := Concept{System: inc.System, Version: inc.Version, Code: c.Code, Display: c.Display}
			if cs != nil {
				if n, ok := cs.find(c.Code); ok {
					full := n.concept(cs)
					if con.Display == "" {
						con.Display = full.Display
					}
					con.Version, con.Definition, con.Designations = full.Version, full.Definition, full.Designations
				}
			}
			out = append(out, con)
		}
		return out, nil
	}
	if cs == nil || cs.doc.Content == "not-present" {
		return nil, &TermError{Code: "not-supported", Message: fmt.Sprintf("ValueSet/%s draws on the code system %s, whose codes are not among the shared definitions", vsID, inc.System)}
	}
	nodes := cs.order
	for _, f := range inc.Filter {
		if f.Property != "concept" || (f.Op != "is-a" && f.Op != "descendent-of" && f.Op != "is-not-a") {
			return nil, &TermError{Code: "not-supported", Message: fmt.Sprintf("ValueSet/%s filters %s by %s %s, which this server cannot expand", vsID, inc.System, f.Property, f.Op)}
		}
		root, ok := cs.find(f.Value)
		var sub []*csNode
		if ok {
			sub = root.descendants()
			if f.Op != "descendent-of" {
				sub = append([]*csNode{root}, sub...)
			}
		}
		in := map[*csNode]bool{}
		for _, n := range sub {
			in[n] = true
		}
		var kept []*csNode
		for _, n := range nodes {
			if in[n] != (f.Op == "is-not-a") {
				kept = append(kept, n)
			}
		}
		nodes = kept
	}
	out := make([]Concept, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.concept(cs))
	}
	return out, nil
}

// dedupe keeps the first of each system and code.
func dedupe(cs []Concept) []Concept {
	seen := map[string]bool{}
	out := make([]Concept, 0, len(cs))
	for _, c := range cs {
		if k := c.System + "|" + c.Code; !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}
