package fhir

import (
	"errors"
	"strconv"
	"strings"
)

// This file holds the small part of FHIRPath that the R4 search parameter
// expressions need: paths, unions, indexing, as / ofType, where(resolve() is
// X), where(field = 'literal'), extension('url'), exists() and first().
// Anything else fails to parse and the expression term is skipped.

var errUnsupported = errors.New("unsupported FHIRPath")

// fpChain is one union term: an optional parenthesised start, then steps.
type fpChain struct {
	group []*fpChain // set when the term starts with "( ... )"
	steps []fpStep
}

type fpStep struct {
	kind  string // "field", "index", "as", "resolveIs", "equals", "extension", "exists", "first"
	name  string // field name, type name, extension url, or compared field
	value string // literal of "equals"
	index int
}

type fpLexer struct {
	toks []string
	pos  int
}

func (l *fpLexer) peek() string {
	if l.pos < len(l.toks) {
		return l.toks[l.pos]
	}
	return ""
}

func (l *fpLexer) next() string {
	t := l.peek()
	l.pos++
	return t
}

func (l *fpLexer) expect(t string) error {
	if l.next() != t {
		return errUnsupported
	}
	return nil
}

func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '\'':
			j := i + 1
			for j < len(s) && s[j] != '\'' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, errUnsupported
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, errUnsupported
			}
			toks = append(toks, s[i+1:i+1+j])
			i += j + 2
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, "!=")
			i += 2
		case strings.IndexByte(".|()[],=", c) >= 0:
			toks = append(toks, string(c))
			i++
		case isIdentByte(c):
			j := i
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, errUnsupported
		}
	}
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseFHIRPath parses a union of path terms.
func parseFHIRPath(s string) ([]*fpChain, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	l := &fpLexer{toks: toks}
	u, err := parseUnion(l)
	if err != nil {
		return nil, err
	}
	if l.pos != len(l.toks) {
		return nil, errUnsupported
	}
	return u, nil
}

func parseUnion(l *fpLexer) ([]*fpChain, error) {
	var out []*fpChain
	for {
		c, err := parseChain(l)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if l.peek() != "|" {
			return out, nil
		}
		l.next()
	}
}

func parseChain(l *fpLexer) (*fpChain, error) {
	c := &fpChain{}
	switch t := l.next(); {
	case t == "(":
		g, err := parseUnion(l)
		if err != nil {
			return nil, err
		}
		if err := l.expect(")"); err != nil {
			return nil, err
		}
		c.group = g
	case isName(t):
		c.steps = append(c.steps, fpStep{kind: "field", name: t})
	default:
		return nil, errUnsupported
	}
	for {
		switch l.peek() {
		case ".":
			l.next()
			step, err := parseInvocation(l)
			if err != nil {
				return nil, err
			}
			c.steps = append(c.steps, step)
		case "[":
			l.next()
			n, err := strconv.Atoi(l.next())
			if err != nil || n < 0 {
				return nil, errUnsupported
			}
			if err := l.expect("]"); err != nil {
				return nil, err
			}
			c.steps = append(c.steps, fpStep{kind: "index", index: n})
		case "as":
			l.next()
			t := typeName(l.next())
			if !isName(t) {
				return nil, errUnsupported
			}
			c.steps = append(c.steps, fpStep{kind: "as", name: t})
		default:
			return c, nil
		}
	}
}

func parseInvocation(l *fpLexer) (fpStep, error) {
	name := l.next()
	if !isName(name) {
		return fpStep{}, errUnsupported
	}
	if l.peek() != "(" {
		return fpStep{kind: "field", name: name}, nil
	}
	l.next()
	var step fpStep
	switch name {
	case "as", "ofType":
		step = fpStep{kind: "as", name: typeName(l.next())}
	case "exists", "first":
		step = fpStep{kind: name}
	case "extension":
		lit := l.next()
		if !isString(lit) {
			return fpStep{}, errUnsupported
		}
		step = fpStep{kind: "extension", name: unquote(lit)}
	case "where":
		a := l.next()
		switch {
		case a == "resolve":
			if l.next() != "(" || l.next() != ")" || l.next() != "is" {
				return fpStep{}, errUnsupported
			}
			step = fpStep{kind: "resolveIs", name: typeName(l.next())}
		case isName(a) && l.peek() == "=":
			l.next()
			lit := l.next()
			if !isString(lit) {
				return fpStep{}, errUnsupported
			}
			step = fpStep{kind: "equals", name: a, value: unquote(lit)}
		default:
			return fpStep{}, errUnsupported
		}
	default:
		return fpStep{}, errUnsupported
	}
	if step.kind == "as" && !isName(step.name) {
		return fpStep{}, errUnsupported
	}
	return step, l.expect(")")
}

func isName(t string) bool {
	if t == "" || t == "as" || t == "is" || t == "and" || t == "or" {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isIdentByte(t[i]) {
			return false
		}
	}
	return !(t[0] >= '0' && t[0] <= '9')
}

func isString(t string) bool { return len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'' }

func unquote(t string) string { return strings.ReplaceAll(t[1:len(t)-1], `\'`, `'`) }

func typeName(t string) string { return strings.TrimPrefix(t, "FHIR.") }

// splitUnion splits an expression at its top-level "|" operators.
func splitUnion(expr string) []string {
	var out []string
	depth, start := 0, 0
	quoted := false
	for i := 0; i < len(expr); i++ {
		switch c := expr[i]; {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			out = append(out, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(expr[start:]))
}

// rootName is the first identifier of a term, ignoring opening parentheses.
func rootName(term string) string {
	t := strings.TrimLeft(term, "( ")
	end := 0
	for end < len(t) && isIdentByte(t[end]) {
		end++
	}
	return t[:end]
}

// fpNode is one item of a FHIRPath collection: a JSON value, its FHIR type
// when known, and the definition path describing its children.
type fpNode struct {
	v       any
	typ     string
	defPath string
}

// eval evaluates parsed terms on a resource of type rt.
func (d *definitions) eval(terms []*fpChain, resource map[string]any, rt string) []fpNode {
	var out []fpNode
	for _, c := range terms {
		out = append(out, d.evalChain(c, resource, rt)...)
	}
	return out
}

func (d *definitions) evalChain(c *fpChain, resource map[string]any, rt string) []fpNode {
	var cur []fpNode
	steps := c.steps
	if c.group != nil {
		cur = d.eval(c.group, resource, rt)
	} else {
		root := steps[0].name
		if root != rt && root != "Resource" && root != "DomainResource" {
			return nil
		}
		cur = []fpNode{{v: resource, typ: rt, defPath: rt}}
		steps = steps[1:]
	}
	for _, s := range steps {
		cur = d.step(s, cur)
		if len(cur) == 0 {
			return nil
		}
	}
	return cur
}

func (d *definitions) step(s fpStep, in []fpNode) []fpNode {
	var out []fpNode
	switch s.kind {
	case "field":
		for _, n := range in {
			out = d.field(n, s.name, out)
		}
	case "index":
		if s.index < len(in) {
			out = []fpNode{in[s.index]}
		}
	case "first":
		if len(in) > 0 {
			out = in[:1]
		}
	case "exists":
		out = []fpNode{{v: len(in) > 0, typ: "boolean"}}
	case "as":
		for _, n := range in {
			if n.typ == s.name {
				out = append(out, n)
			}
		}
	case "resolveIs":
		for _, n := range in {
			if m, ok := n.v.(map[string]any); ok && n.typ == "Reference" && referenceType(m) == s.name {
				out = append(out, n)
			}
		}
	case "equals":
		for _, n := range in {
			if m, ok := n.v.(map[string]any); ok && m[s.name] == s.value {
				out = append(out, n)
			}
		}
	case "extension":
		for _, n := range in {
			for _, e := range d.field(n, "extension", nil) {
				if m, ok := e.v.(map[string]any); ok && m["url"] == s.name {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// field appends the values of property name of n (following choice types
// and flattening arrays) to out.
func (d *definitions) field(n fpNode, name string, out []fpNode) []fpNode {
	obj, ok := n.v.(map[string]any)
	if !ok {
		return out
	}
	var el *element
	for _, e := range d.children[n.defPath] {
		if e.name == name {
			el = e
			break
		}
	}
	if el == nil {
		return out
	}
	add := func(v any, typ string) {
		items, isArr := v.([]any)
		if !isArr {
			items = []any{v}
		}
		for _, item := range items {
			if item == nil {
				continue
			}
			t := typ
			if t == "" && el.contentRef != "" {
				t = "BackboneElement"
			}
			path := d.childPath(el, t)
			if t == "Resource" || t == "DomainResource" {
				m, _ := item.(map[string]any)
				rt, _ := m["resourceType"].(string)
				t, path = rt, rt
			}
			out = append(out, fpNode{v: item, typ: t, defPath: path})
		}
	}
	if !el.choice {
		if v, ok := obj[name]; ok {
			typ := ""
			if len(el.types) == 1 {
				typ = el.types[0]
			}
			add(v, typ)
		}
		return out
	}
	for _, t := range el.types {
		if v, ok := obj[name+upperFirst(t)]; ok {
			add(v, t)
		}
	}
	return out
}

// referenceType is the target type of a Reference: its explicit type, or the
// type part of a relative "Type/id" reference.
func referenceType(ref map[string]any) string {
	if t, ok := ref["type"].(string); ok && t != "" {
		return t
	}
	s, _ := ref["reference"].(string)
	t, _ := parseReference(s)
	return t
}

// parseReference splits a relative reference "Type/id" (optionally followed
// by "/_history/version") into its type and id.
func parseReference(s string) (typ, id string) {
	parts := strings.Split(s, "/")
	if len(parts) != 2 && !(len(parts) == 4 && parts[2] == "_history") {
		return "", ""
	}
	if !isResourceType(parts[0]) || !idPattern.MatchString(parts[1]) {
		return "", ""
	}
	return parts[0], parts[1]
}
