package fhir

import (
	"encoding/json"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Open ends of a date range: a Period without start begins at OpenStart, one
// without end finishes at OpenEnd.
var (
	OpenStart = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	OpenEnd   = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// compiledParam is a search parameter with its expression parsed: terms
// is the whole union, which finds the parameter's values in a resource;
// stored is the part whose values the index keeps under this parameter's
// code (see coverParams); texts are the union's terms as written.
type compiledParam struct {
	SearchParam
	terms, stored []*fpChain
	texts         []string
}

func (d *definitions) indexSearchParams(f defsFile) {
	d.compiled = map[string][]compiledParam{}
	d.stored = map[string]map[string][]string{}
	d.composites = map[string][]compiledComposite{}
	for _, rt := range d.resourceTypes {
		domain := false
		for _, e := range d.children[rt] {
			domain = domain || e.name == "text"
		}
		params := map[string]SearchParam{}
		var compiled []compiledParam
		for _, sp := range f.SearchParams {
			if !slices.Contains(sp.Base, rt) && !slices.Contains(sp.Base, "Resource") && !(domain && slices.Contains(sp.Base, "DomainResource")) {
				continue
			}
			if _, dup := params[sp.Code]; dup {
				continue
			}
			var terms []string
			for _, term := range splitUnion(sp.Expression) {
				switch rootName(term) {
				case rt:
					terms = append(terms, term)
				case "Resource", "DomainResource":
					i := strings.Index(term, rootName(term))
					terms = append(terms, term[:i]+rt+term[i+len(rootName(term)):])
				}
			}
			p := SearchParam{Code: sp.Code, Type: ParamType(sp.Type), Expression: strings.Join(terms, " | "), Targets: sp.Target}
			if p.Type == TypeComposite {
				if c, ok := compileComposite(sp.Code, terms); ok {
					d.composites[rt] = append(d.composites[rt], c)
					p.Components = []ParamType{TypeToken, c.secondType}
				}
			}
			params[sp.Code] = p
			switch p.Type {
			case TypeString, TypeToken, TypeDate, TypeReference, TypeURI, TypeNumber, TypeQuantity:
			default:
				continue
			}
			cp := compiledParam{SearchParam: p}
			for _, term := range terms {
				if parsed, err := parseFHIRPath(term); err == nil {
					cp.terms = append(cp.terms, parsed...)
					cp.texts = append(cp.texts, strings.TrimSpace(term))
				}
			}
			if len(cp.terms) > 0 {
				compiled = append(compiled, cp)
			}
		}
		slices.SortFunc(compiled, func(a, b compiledParam) int { return strings.Compare(a.Code, b.Code) })
		d.searchParams[rt] = params
		d.stored[rt] = coverParams(compiled)
		maps.Copy(d.stored[rt], coverComposites(d.composites[rt]))
		d.compiled[rt] = compiled
	}
}

func searchParams(resourceType string) map[string]SearchParam {
	params, ok := defs().searchParams[resourceType]
	if !ok {
		return nil
	}
	out := maps.Clone(params)
	for k, p := range out {
		p.Targets = slices.Clone(p.Targets)
		p.Components = slices.Clone(p.Components)
		out[k] = p
	}
	return out
}

// coverParams finds the parameters of one resource type whose union holds
// another parameter's whole expression: Patient's phonetic is its name
// (the same expression), Observation's combo-code is code | component-code.
// Such a parameter's values are indexed once, under the covering
// parameter(s), and only the rest of its union under its own code; a
// search of it reads its own rows and theirs. A Patient writes two index
// rows fewer (of nine), an Observation with a value three (of ten), on
// every write and in every clone.
//
// compiled's stored loses the covered terms; the result maps each covered
// parameter's code to the codes whose rows answer it, its own first (rows
// indexed before this existed keep answering). Only parameters of the
// same type whose values depend on nothing but the type take part
// (references, whose targets differ, and composites do not).
func coverParams(compiled []compiledParam) map[string][]string {
	var ps []coverage
	for _, p := range compiled {
		switch p.Type {
		case TypeString, TypeToken, TypeDate, TypeURI, TypeNumber, TypeQuantity:
			ps = append(ps, coverage{p.Code, string(p.Type), p.texts})
		}
	}
	answers, kept := cover(ps)
	for i := range compiled {
		p := &compiled[i]
		p.stored = p.terms
		if texts, ok := kept[p.Code]; ok {
			p.stored = parseTerms(texts)
		}
	}
	return answers
}

// coverage is a parameter as cover sees it: its code, what its values
// depend on besides the elements its expression reaches (kind), and its
// union's terms as written.
type coverage struct {
	code, kind string
	texts      []string
}

// cover finds the parameters whose terms another parameter of the same
// kind holds, some of them or all (all only when the other's code sorts
// first, so that two parameters with the same expression do not cover
// each other). For each parameter so covered, answers lists the codes
// whose rows answer it, its own first, then those that cover it, directly
// or through others; kept lists the terms it still indexes under its own
// code.
func cover(ps []coverage) (answers, kept map[string][]string) {
	covers := func(q, p coverage) bool {
		if q.code == p.code || q.kind != p.kind || len(q.texts) > len(p.texts) {
			return false
		}
		for _, t := range q.texts {
			if !slices.Contains(p.texts, t) {
				return false
			}
		}
		return len(q.texts) < len(p.texts) || q.code < p.code
	}
	direct := map[string][]string{}
	kept = map[string][]string{}
	for _, p := range ps {
		var left []string
		for _, t := range p.texts {
			i := slices.IndexFunc(ps, func(q coverage) bool { return covers(q, p) && slices.Contains(q.texts, t) })
			switch {
			case i < 0:
				left = append(left, t)
			case !slices.Contains(direct[p.code], ps[i].code):
				direct[p.code] = append(direct[p.code], ps[i].code)
			}
		}
		if len(direct[p.code]) > 0 {
			kept[p.code] = left
		}
	}
	var answer func(code string) []string
	answer = func(code string) []string {
		list := []string{code}
		for _, q := range direct[code] {
			for _, c := range answer(q) {
				if !slices.Contains(list, c) {
					list = append(list, c)
				}
			}
		}
		return list
	}
	answers = map[string][]string{}
	for code := range direct {
		answers[code] = answer(code)
	}
	return answers, kept
}

// parseTerms parses the terms of a union, each already known to parse.
func parseTerms(texts []string) []*fpChain {
	var out []*fpChain
	for _, t := range texts {
		if parsed, err := parseFHIRPath(t); err == nil {
			out = append(out, parsed...)
		}
	}
	return out
}

// StoredParams are the parameter codes whose index rows hold the values of
// the parameter code of resourceType: code itself, and those that cover it
// (see coverParams).
func StoredParams(resourceType, code string) []string {
	if list, ok := defs().stored[resourceType][code]; ok {
		return slices.Clone(list)
	}
	return []string{code}
}

// extractIndex returns the index values of the parameter code of the
// resource; when code is empty, the values every parameter stores (see
// coverParams).
func extractIndex(resource map[string]any, code string) []IndexValue {
	rt, _ := resource["resourceType"].(string)
	if !isResourceType(rt) {
		return nil
	}
	d := defs()
	var out []IndexValue
	for _, p := range d.compiled[rt] {
		switch {
		case code == "":
			out = append(out, d.paramValues(p, p.stored, resource, rt)...)
		case p.Code == code:
			out = append(out, d.paramValues(p, p.terms, resource, rt)...)
		}
	}
	return out
}

// paramValues are the distinct index values that terms of the parameter p
// reach in resource.
func (d *definitions) paramValues(p compiledParam, terms []*fpChain, resource map[string]any, rt string) []IndexValue {
	var out []IndexValue
	seen := map[IndexValue]bool{}
	for _, n := range d.eval(terms, resource, rt) {
		for _, v := range indexValues(p.SearchParam, n) {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}

// indexValues turns one node reached by a parameter's expression into the
// values to index, according to the parameter type.
func indexValues(p SearchParam, n fpNode) []IndexValue {
	base := IndexValue{Param: p.Code, Type: p.Type}
	obj, _ := n.v.(map[string]any)
	var out []IndexValue
	switch p.Type {
	case TypeString:
		var texts []string
		switch {
		case n.typ == "HumanName" && obj != nil:
			texts = strField(obj, "text", "family", "given", "prefix", "suffix")
		case n.typ == "Address" && obj != nil:
			texts = strField(obj, "text", "line", "city", "district", "state", "postalCode", "country")
		case primitiveKinds[n.typ]:
			if s, ok := n.v.(string); ok {
				texts = []string{s}
			}
		}
		for _, raw := range texts {
			if t := NormalizeText(raw); t != "" {
				v := base
				v.Text, v.Raw = t, strings.TrimSpace(raw)
				out = append(out, v)
			}
		}
	case TypeToken:
		switch {
		case n.typ == "CodeableConcept" && obj != nil:
			text, _ := obj["text"].(string)
			codings, _ := obj["coding"].([]any)
			for _, c := range codings {
				if m, ok := c.(map[string]any); ok {
					out = append(out, coding(base, m, text))
				}
			}
			if len(out) == 0 && text != "" {
				v := base
				v.Text = text
				out = append(out, v)
			}
		case (n.typ == "Coding" || n.typ == "Identifier" || n.typ == "ContactPoint") && obj != nil:
			v := coding(base, obj, "")
			if n.typ != "Coding" {
				v.Code, _ = obj["value"].(string)
				if n.typ == "Identifier" {
					t, _ := obj["type"].(map[string]any)
					v.Text, _ = t["text"].(string)
				}
			}
			if v.Code != "" || v.System != "" {
				out = append(out, v)
			}
		case primitiveKinds[n.typ]:
			switch x := n.v.(type) {
			case bool:
				base.Code = "false"
				if x {
					base.Code = "true"
				}
				out = append(out, base)
			case string:
				if x != "" {
					base.Code = x
					out = append(out, base)
				}
			}
		}
	case TypeDate:
		var start, end time.Time
		var ok bool
		switch {
		case n.typ == "Period" && obj != nil:
			start, end, ok = OpenStart, OpenEnd, true
			if s, isStr := obj["start"].(string); isStr {
				start, _, ok = DateRange(s)
			}
			if e, isStr := obj["end"].(string); isStr && ok {
				_, end, ok = DateRange(e)
			}
			ok = ok && (obj["start"] != nil || obj["end"] != nil)
		case n.typ == "date" || n.typ == "dateTime" || n.typ == "instant":
			if s, isStr := n.v.(string); isStr {
				start, end, ok = DateRange(s)
			}
		}
		if ok {
			base.Start, base.End = start, end
			out = append(out, base)
		}
	case TypeReference:
		var ref string
		switch {
		case n.typ == "Reference" && obj != nil:
			ref, _ = obj["reference"].(string)
		case n.typ == "canonical" || n.typ == "uri":
			ref, _ = n.v.(string)
		}
		if ref == "" || strings.HasPrefix(ref, "#") {
			return nil
		}
		base.Ref = ref
		base.RefType, base.RefID = parseReference(ref)
		out = append(out, base)
	case TypeURI:
		// A uri is matched as written: Text and Raw both hold it.
		if u, ok := n.v.(string); ok && strings.TrimSpace(u) != "" {
			base.Text, base.Raw = strings.TrimSpace(u), strings.TrimSpace(u)
			out = append(out, base)
		}
	case TypeNumber:
		if n.typ == "decimal" || n.typ == "integer" || n.typ == "positiveInt" || n.typ == "unsignedInt" {
			if v, ok := numberValue(base, n.v); ok {
				out = append(out, v)
			}
		}
	case TypeQuantity:
		if quantityTypes[n.typ] && obj != nil {
			if v, ok := numberValue(base, obj["value"]); ok {
				v.System, _ = obj["system"].(string)
				v.Code, _ = obj["code"].(string)
				v.Unit, _ = obj["unit"].(string)
				out = append(out, v)
			}
		}
		if n.typ == "Money" && obj != nil {
			// An amount's currency is its code, in ISO 4217.
			if v, ok := numberValue(base, obj["value"]); ok {
				if v.Code, _ = obj["currency"].(string); v.Code != "" {
					v.System = "urn:iso:std:iso:4217"
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// quantityTypes are the FHIR types a quantity parameter indexes: Quantity
// and its profiles (Money, an amount in a currency, is indexed apart).
var quantityTypes = map[string]bool{
	"Quantity": true, "SimpleQuantity": true, "Age": true, "Count": true, "Distance": true, "Duration": true,
	"MoneyQuantity": true,
}

// numberValue sets base's Number, Low and High from a JSON number (a
// json.Number keeps the digits as written, and so the precision).
func numberValue(base IndexValue, x any) (IndexValue, bool) {
	var text string
	switch v := x.(type) {
	case json.Number:
		text = v.String()
	case float64:
		text = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return base, false
	}
	num, low, high, ok := NumberRange(text)
	if !ok {
		return base, false
	}
	base.Number, base.Low, base.High = num, low, high
	return base, true
}

// NumberRange returns the value of a FHIR decimal written as s and the
// range [low, high) its implicit precision covers: half a unit of its last
// digit either side ("5.4" covers [5.35, 5.45), "100" [99.5, 100.5),
// "1.0e2" [95, 105)). ok is false when s is not a finite number.
func NumberRange(s string) (num, low, high float64, ok bool) {
	s = strings.TrimSpace(s)
	num, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(num, 0) || math.IsNaN(num) || strings.ContainsAny(s, "xXpP_") {
		return 0, 0, 0, false
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		if exp, err = strconv.Atoi(s[i+1:]); err != nil {
			return 0, 0, 0, false
		}
	}
	decimals := 0
	if _, frac, found := strings.Cut(mant, "."); found {
		decimals = len(frac)
	}
	half := 0.5 * math.Pow(10, float64(exp-decimals))
	low, high = num-half, num+half
	// More digits than a float holds: the range is the number itself, and
	// still holds it.
	low = min(low, num)
	if high <= num {
		high = math.Nextafter(num, math.Inf(1))
	}
	return num, low, high, true
}

// primitiveKinds are the FHIR primitive types whose JSON value is indexed
// as it is (a string or a boolean).
var primitiveKinds = map[string]bool{
	"string": true, "markdown": true, "code": true, "id": true, "uri": true, "url": true, "canonical": true,
	"oid": true, "uuid": true, "boolean": true,
}

func coding(base IndexValue, m map[string]any, text string) IndexValue {
	base.System, _ = m["system"].(string)
	base.Code, _ = m["code"].(string)
	base.Text, _ = m["display"].(string)
	if base.Text == "" {
		base.Text = text
	}
	return base
}

// strField collects the string values (single or arrays) of the named
// properties, in that order.
func strField(obj map[string]any, names ...string) []string {
	var out []string
	for _, name := range names {
		switch v := obj[name].(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// NormalizeText lower-cases s, removes accents and trims it: the form in
// which string search parameters are indexed and should be compared.
func NormalizeText(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return strings.TrimSpace(b.String())
}

var (
	dateRangePattern = regexp.MustCompile(`^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$`)
)

// DateRange returns the instant range [start, end) that a FHIR date,
// dateTime or instant covers, in UTC: "1990" covers all of 1990,
// "1990-05-12T10:00:00Z" one second. Values without a time zone are read as
// UTC. ok is false when s is not such a value.
func DateRange(s string) (start, end time.Time, ok bool) {
	m := dateRangePattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, time.Time{}, false
	}
	num := func(x string, def int) int {
		if x == "" {
			return def
		}
		n := 0
		for _, c := range x {
			n = n*10 + int(c-'0')
		}
		return n
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		sign := 1
		if z[0] == '-' {
			sign = -1
		}
		loc = time.FixedZone(z, sign*(num(z[1:3], 0)*3600+num(z[4:6], 0)*60))
	}
	year, month, day := num(m[1], 0), num(m[2], 1), num(m[3], 1)
	hour, minute, sec := num(m[4], 0), num(m[5], 0), num(m[6], 0)
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, time.Time{}, false
	}
	start = time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if start.Day() != day {
		return time.Time{}, time.Time{}, false // e.g. 30 February
	}
	switch {
	case m[2] == "":
		end = start.AddDate(1, 0, 0)
	case m[3] == "":
		end = start.AddDate(0, 1, 0)
	case m[4] == "":
		end = start.AddDate(0, 0, 1)
	case m[6] == "":
		end = start.Add(time.Minute)
	case m[7] == "":
		end = start.Add(time.Second)
	default:
		frac := m[7][1:]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		unit := time.Second
		for range frac {
			unit /= 10
		}
		ns := time.Duration(num(frac, 0)) * unit
		start = start.Add(ns)
		end = start.Add(unit)
	}
	return start.UTC(), end.UTC(), true
}

func references(resource map[string]any) []Reference {
	rt, _ := resource["resourceType"].(string)
	if !isResourceType(rt) {
		return nil
	}
	d := defs()
	var out []Reference
	d.walk(resource, rt, rt, 0, func(obj map[string]any, typ, loc string) {
		if typ != "Reference" {
			return
		}
		ref, ok := obj["reference"].(string)
		if !ok || ref == "" || strings.HasPrefix(ref, "#") {
			return
		}
		r := Reference{Path: loc, Reference: ref}
		r.Type, r.ID = parseReference(ref)
		out = append(out, r)
	})
	return out
}

// walk visits every object of a resource whose definition is known, in FHIR
// element order, with its type and location.
func (d *definitions) walk(obj map[string]any, defPath, loc string, depth int, visit func(map[string]any, string, string)) {
	if depth > maxDepth {
		return
	}
	for _, el := range d.children[defPath] {
		names := []string{el.name}
		types := []string{""}
		if len(el.types) == 1 {
			types[0] = el.types[0]
		}
		if el.choice {
			names, types = nil, nil
			for _, t := range el.types {
				names = append(names, el.name+upperFirst(t))
				types = append(types, t)
			}
		}
		for i, name := range names {
			val, ok := obj[name]
			if !ok {
				continue
			}
			items, isArr := val.([]any)
			if !isArr {
				items = []any{val}
			}
			for j, item := range items {
				m, ok := item.(map[string]any)
				if !ok {
					continue
				}
				at := loc + "." + name
				if isArr {
					at += "[" + strconv.Itoa(j) + "]"
				}
				typ := types[i]
				if typ == "" && el.contentRef != "" {
					typ = "BackboneElement"
				}
				path := d.childPath(el, typ)
				if typ == "Resource" || typ == "DomainResource" {
					typ, _ = m["resourceType"].(string)
					path = typ
				}
				visit(m, typ, at)
				d.walk(m, path, at, depth+1, visit)
			}
		}
	}
}
