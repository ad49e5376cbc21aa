package fhir

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Issue codes used by the validator.
const (
	codeStructure    = "structure"
	codeRequired     = "required"
	codeValue        = "value"
	codeCodeInvalid  = "code-invalid"
	codeInvariant    = "invariant"
	codeNotSupported = "not-supported"
)

// maxDepth bounds the nesting the validator follows, so a hostile document
// cannot exhaust the stack.
const maxDepth = 64

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

func validate(resource map[string]any, strict bool) []Issue {
	v := &validator{d: defs()}
	if resource == nil {
		v.add(codeStructure, "", "Resource must be a JSON object")
		return v.issues
	}
	rt, ok := resource["resourceType"].(string)
	switch {
	case !ok && resource["resourceType"] != nil:
		v.add(codeStructure, "resourceType", "resourceType must be a string")
		return v.issues
	case !ok || rt == "":
		v.add(codeRequired, "resourceType", "Missing resourceType")
		return v.issues
	case !isResourceType(rt):
		v.add(codeNotSupported, "resourceType", fmt.Sprintf("Unknown resource type %q", rt))
		return v.issues
	}
	if strict {
		v.object(resource, rt, rt, 0)
	} else {
		v.shape(resource, rt)
	}
	return v.issues
}

type validator struct {
	d      *definitions
	issues []Issue
}

func (v *validator) add(code, expr, msg string) {
	v.issues = append(v.issues, Issue{Severity: "error", Code: code, Expression: expr, Message: msg})
}

// shape applies the rules of non-strict mode: a valid id and a well-formed
// meta.versionId / meta.lastUpdated.
func (v *validator) shape(r map[string]any, rt string) {
	if id, ok := r["id"]; ok {
		v.primitive(id, "id", rt+".id")
	}
	meta, ok := r["meta"]
	if !ok {
		return
	}
	m, ok := meta.(map[string]any)
	if !ok {
		v.add(codeStructure, rt+".meta", "meta must be an object")
		return
	}
	if vid, ok := m["versionId"]; ok {
		v.primitive(vid, "id", rt+".meta.versionId")
	}
	if lu, ok := m["lastUpdated"]; ok {
		v.primitive(lu, "instant", rt+".meta.lastUpdated")
	}
}

// object validates the properties of a JSON object against the children of
// the definition path def; loc is the FHIRPath-like location of the object.
func (v *validator) object(obj map[string]any, def, loc string, depth int) {
	if depth > maxDepth {
		v.add(codeStructure, loc, "Nesting is too deep")
		return
	}
	if len(obj) == 0 {
		v.add(codeInvariant, loc, "An element must have a value or children (ele-1)")
		return
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	// FHIR's own element order, then unknown properties alphabetically.
	type slot struct {
		order int
		key   string
	}
	slots := make([]slot, 0, len(keys))
	for _, k := range keys {
		el, _ := v.d.child(def, strings.TrimPrefix(k, "_"))
		o := math.MaxInt
		if el != nil {
			o = el.order
		}
		slots = append(slots, slot{o, k})
	}
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].order != slots[j].order {
			return slots[i].order < slots[j].order
		}
		return slots[i].key < slots[j].key
	})

	seenChoice := map[*element]string{}
	present := map[*element]bool{}
	isResource := def == obj["resourceType"]
	for _, s := range slots {
		k := s.key
		val := obj[k]
		if k == "resourceType" && isResource {
			continue
		}
		name, ext := k, false
		if strings.HasPrefix(k, "_") {
			name, ext = k[1:], true
		}
		el, chosen := v.d.child(def, name)
		at := loc + "." + name
		if el == nil {
			if base := v.d.choiceBase(def, name); base != nil {
				v.add(codeStructure, at, fmt.Sprintf("%s is not an allowed type for %s[x] (allowed: %s)", strings.TrimPrefix(name, base.name), base.name, strings.Join(base.types, ", ")))
			} else {
				v.add(codeStructure, loc+"."+k, fmt.Sprintf("Unknown element %q", k))
			}
			continue
		}
		if el.prohibited {
			v.add(codeStructure, at, fmt.Sprintf("Element %q is not allowed here", name))
			continue
		}
		if el.choice {
			if prev, dup := seenChoice[el]; dup && prev != name {
				v.add(codeStructure, at, fmt.Sprintf("Only one of %s[x] may be present, found %s and %s", el.name, prev, name))
				continue
			}
			seenChoice[el] = name
		}
		present[el] = true
		typ := chosen
		if typ == "" && len(el.types) == 1 {
			typ = el.types[0]
		}
		if typ == "" && el.contentRef != "" {
			typ = "BackboneElement"
		}
		if ext {
			if !isPrimitive(v.d, typ) {
				v.add(codeStructure, loc+"."+k, fmt.Sprintf("Element %q is not a primitive and cannot have %q", name, k))
				continue
			}
			v.values(val, el, "Element", at, true, obj[name], depth)
			continue
		}
		v.values(val, el, typ, at, false, obj["_"+name], depth)
	}
	for _, el := range v.d.children[def] {
		if el.min > 0 && !present[el] {
			name := el.name
			if el.choice {
				name += "[x]"
			}
			v.add(codeRequired, loc+"."+name, fmt.Sprintf("Missing required element %q", name))
		}
	}
}

// values checks the cardinality of val and validates each item. sibling is
// the value of the companion property (name for _name and the reverse), used
// to allow nulls in arrays of primitives that carry extensions.
func (v *validator) values(val any, el *element, typ, at string, ext bool, sibling any, depth int) {
	arr, isArr := val.([]any)
	if !el.many {
		if isArr {
			v.add(codeStructure, at, fmt.Sprintf("Element %q takes a single value, not an array", el.name))
			return
		}
		v.value(val, el, typ, at, ext, sibling != nil, depth)
		return
	}
	if !isArr {
		v.add(codeStructure, at, fmt.Sprintf("Element %q takes an array", el.name))
		return
	}
	if len(arr) == 0 {
		v.add(codeStructure, at, "An array must not be empty")
		return
	}
	other, _ := sibling.([]any)
	for i, item := range arr {
		hasOther := i < len(other) && other[i] != nil
		v.value(item, el, typ, fmt.Sprintf("%s[%d]", at, i), ext, hasOther, depth)
	}
}

// value validates one item of type typ (empty when the element has several
// types, which only happens for choices, handled by the caller).
func (v *validator) value(val any, el *element, typ, at string, ext, hasSibling bool, depth int) {
	if val == nil {
		if !hasSibling {
			v.add(codeStructure, at, "Value must not be null")
		}
		return
	}
	if ext {
		obj, ok := val.(map[string]any)
		if !ok {
			v.add(codeStructure, at, "Primitive extension must be an object")
			return
		}
		v.object(obj, "Element", at, depth+1)
		return
	}
	switch {
	case typ == "":
		v.add(codeStructure, at, "Cannot tell the type of this element")
	case typ == "Resource" || typ == "DomainResource":
		obj, ok := val.(map[string]any)
		if !ok {
			v.add(codeStructure, at, "A resource must be a JSON object")
			return
		}
		rt, _ := obj["resourceType"].(string)
		if !isResourceType(rt) {
			v.add(codeStructure, at, "A resource needs a known resourceType")
			return
		}
		v.object(obj, rt, at, depth+1)
	case isPrimitive(v.d, typ):
		if v.primitive(val, typ, at) && el.binding != nil {
			if s, ok := val.(string); ok && !el.binding.codes[s] {
				v.badCode(at, s, el.binding)
			}
		}
	default:
		obj, ok := val.(map[string]any)
		if !ok {
			v.add(codeStructure, at, fmt.Sprintf("%s must be a JSON object", typ))
			return
		}
		n := len(v.issues)
		v.object(obj, v.d.childPath(el, typ), at, depth+1)
		if el.binding != nil && len(v.issues) == n {
			v.binding(obj, typ, at, el.binding)
		}
	}
}

func (v *validator) badCode(at, code string, vs *valueSet) {
	v.add(codeCodeInvalid, at, fmt.Sprintf("Value %q is not in the required value set %s", code, vs.url))
}

// binding checks a Coding or CodeableConcept against a required ValueSet: at
// least one coding must be in it.
func (v *validator) binding(obj map[string]any, typ, at string, vs *valueSet) {
	var codings []any
	switch typ {
	case "Coding":
		codings = []any{obj}
	case "CodeableConcept":
		codings, _ = obj["coding"].([]any)
	default:
		return
	}
	if len(codings) == 0 {
		return
	}
	first := ""
	for _, c := range codings {
		m, _ := c.(map[string]any)
		sys, _ := m["system"].(string)
		code, _ := m["code"].(string)
		if first == "" {
			first = code
		}
		if (sys != "" && vs.pairs[sys+"|"+code]) || (sys == "" && vs.codes[code]) {
			return
		}
	}
	v.badCode(at, first, vs)
}

func isPrimitive(d *definitions, typ string) bool {
	return d.types[typ].kind == "primitive-type"
}

var (
	codePattern    = regexp.MustCompile(`^[^\s]+(\s[^\s]+)*$`)
	datePattern    = regexp.MustCompile(`^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$`)
	dateTimeRegexp = regexp.MustCompile(`^([0-9]{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$`)
	instantPattern = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$`)
	timePattern    = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$`)
	integerPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	decimalPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	oidPattern     = regexp.MustCompile(`^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`)
	uuidPattern    = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// primitive checks the JSON type and lexical form of a primitive value and
// reports whether it is valid.
func (v *validator) primitive(val any, typ, at string) bool {
	switch typ {
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.add(codeStructure, at, "Expected a boolean (true or false)")
			return false
		}
		return true
	case "integer", "positiveInt", "unsignedInt", "decimal":
		text, ok := numberText(val)
		if !ok {
			v.add(codeStructure, at, fmt.Sprintf("Expected a number (%s)", typ))
			return false
		}
		if typ == "decimal" {
			if !decimalPattern.MatchString(text) {
				v.add(codeValue, at, fmt.Sprintf("Invalid decimal %q", text))
				return false
			}
			return true
		}
		n, err := strconv.ParseInt(text, 10, 32)
		switch {
		case err != nil || !integerPattern.MatchString(text):
			v.add(codeValue, at, fmt.Sprintf("Invalid %s %q: expected a whole number between -2147483648 and 2147483647", typ, text))
			return false
		case typ == "positiveInt" && n < 1:
			v.add(codeValue, at, fmt.Sprintf("Invalid positiveInt %q: must be 1 or more", text))
			return false
		case typ == "unsignedInt" && n < 0:
			v.add(codeValue, at, fmt.Sprintf("Invalid unsignedInt %q: must be 0 or more", text))
			return false
		}
		return true
	}
	s, ok := val.(string)
	if !ok {
		v.add(codeStructure, at, fmt.Sprintf("Expected a string (%s)", typ))
		return false
	}
	if s == "" {
		v.add(codeValue, at, "A value must not be an empty string")
		return false
	}
	var valid bool
	switch typ {
	case "id":
		valid = idPattern.MatchString(s)
	case "code":
		valid = codePattern.MatchString(s)
	case "date":
		valid = datePattern.MatchString(s) && validCalendar(s)
	case "dateTime":
		valid = dateTimeRegexp.MatchString(s) && validCalendar(s)
	case "instant":
		valid = instantPattern.MatchString(s) && validCalendar(s)
	case "time":
		valid = timePattern.MatchString(s)
	case "uri", "url", "canonical":
		valid = !strings.ContainsAny(s, " \t\r\n")
	case "oid":
		valid = oidPattern.MatchString(s)
	case "uuid":
		valid = uuidPattern.MatchString(s)
	case "base64Binary":
		valid = validBase64(s)
	case "xhtml":
		problems := checkNarrative(s)
		for _, p := range problems {
			v.add(codeValue, at, p)
		}
		return len(problems) == 0
	default: // string, markdown
		valid = strings.TrimSpace(s) != ""
	}
	if !valid {
		v.add(codeValue, at, fmt.Sprintf("Invalid %s %q", typ, truncate(s, 80)))
	}
	return valid
}

func numberText(val any) (string, bool) {
	switch n := val.(type) {
	case json.Number:
		return n.String(), true
	case float64:
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return "", false
		}
		return strconv.FormatFloat(n, 'f', -1, 64), true
	case int:
		return strconv.Itoa(n), true
	case int64:
		return strconv.FormatInt(n, 10), true
	}
	return "", false
}

// validCalendar rejects dates such as 2023-02-30 that match the patterns.
func validCalendar(s string) bool {
	if len(s) < 10 {
		return true
	}
	_, err := time.Parse("2006-01-02", s[:10])
	return err == nil
}

func validBase64(s string) bool {
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	_, err := base64.StdEncoding.DecodeString(compact)
	return err == nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
