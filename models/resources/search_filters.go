package resources

import (
	"slices"
	"strconv"
	"strings"

	"enclave/models/fhir"
)

// chainSpec is a filter on other resources, one level deep: a chained
// parameter (Observation?subject:Patient.name=x: the reference points to a
// Patient whose name matches) or, with rev, a _has
// (Patient?_has:Observation:subject:code=x: an Observation whose subject
// points to the Patient has the code).
type chainSpec struct {
	typ   string         // the other resource's type
	param string         // _has: the other's reference parameter
	rev   bool           // a _has
	inner []searchFilter // what the other resource must match
	// anyOf are the filter groups of the access policy's rules for typ
	// (set by Store.Search, as limitBy sets a query's).
	anyOf [][]searchFilter
}

// parseFilters reads one search parameter (key with its modifier, its
// values as repeated) into filters for resourceType, whose parameters are
// params. skippable says that the error is an unknown parameter or
// modifier, which a lenient search skips.
func parseFilters(resourceType string, params map[string]fhir.SearchParam, key string, values []string) (filters []searchFilter, skippable bool, err error) {
	system := fhir.IsSystemType(resourceType)
	code, modifier, _ := strings.Cut(key, ":")
	if !system && code == "_has" {
		return parseHas(resourceType, modifier, values)
	}
	if !system && strings.Contains(key, ".") {
		return parseChain(resourceType, params, key, values)
	}
	var typ fhir.ParamType
	known := false
	if system {
		typ, known = systemSearchParams[code]
	} else if p, ok := params[code]; ok && Searchable(p) {
		typ, known = p.Type, true
	}
	var components []fhir.ParamType
	if typ == fhir.TypeComposite {
		components = params[code].Components
	}
	if !known {
		return nil, true, badQuery("Unknown search parameter %q for %s", code, resourceType)
	}
	if err := checkModifier(code, typ, modifier, system); err != nil {
		return nil, true, err
	}
	// A parameter whose values are indexed under others too reads their rows.
	var stored []string
	if list := fhir.StoredParams(resourceType, code); len(list) > 1 {
		stored = list
	}
	for _, v := range values {
		f := searchFilter{code: code, typ: typ, modifier: modifier, components: components, params: stored}
		for part := range strings.SplitSeq(v, ",") {
			if err := checkValue(f, part); err != nil {
				return nil, false, err
			}
			f.values = append(f.values, part)
		}
		if f.modifier == "missing" && len(f.values) > 1 {
			return nil, false, badQuery("%s:missing takes one value, true or false", code)
		}
		filters = append(filters, f)
	}
	return filters, false, nil
}

// parseChain reads a chained parameter, "ref.param" or "ref:Type.param"
// (param may carry a modifier of its own).
func parseChain(resourceType string, params map[string]fhir.SearchParam, key string, values []string) ([]searchFilter, bool, error) {
	left, innerKey, _ := strings.Cut(key, ".")
	code, target, _ := strings.Cut(left, ":")
	p, ok := params[code]
	if !ok || p.Type != fhir.TypeReference || !Searchable(p) {
		return nil, true, badQuery("Cannot chain %q: %s has no reference search parameter %q", key, resourceType, code)
	}
	switch {
	case target == "" && len(p.Targets) == 1:
		target = p.Targets[0]
	case target == "":
		return nil, false, badQuery("%s may point to several types: name one, as in %s:%s.%s", code, code, p.Targets[0], innerKey)
	case !slices.Contains(p.Targets, target):
		return nil, false, badQuery("%s of %s cannot point to %q", code, resourceType, target)
	}
	if fhir.IsSystemType(target) {
		return nil, false, badQuery("Cannot chain into shared definitions (%s)", target)
	}
	if strings.Contains(innerKey, ".") || strings.HasPrefix(innerKey, "_has") {
		return nil, false, badQuery("%s: only one level of chaining is supported", key)
	}
	inner, skippable, err := parseFilters(target, fhir.SearchParams(target), innerKey, values)
	if err != nil {
		return nil, skippable, err
	}
	out := make([]searchFilter, len(inner))
	for i, f := range inner {
		out[i] = searchFilter{code: code, typ: fhir.TypeReference, chain: &chainSpec{typ: target, inner: []searchFilter{f}}}
	}
	return out, false, nil
}

// parseHas reads _has:Type:reference:param (rest is what follows "_has:").
func parseHas(resourceType, rest string, values []string) ([]searchFilter, bool, error) {
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) != 3 {
		return nil, false, badQuery("Write _has:Type:reference:parameter, as in _has:Observation:subject:code")
	}
	typ, ref, innerKey := parts[0], parts[1], parts[2]
	if !fhir.IsResourceType(typ) || fhir.IsSystemType(typ) {
		return nil, false, badQuery("_has names an unknown resource type %q", typ)
	}
	typParams := fhir.SearchParams(typ)
	p, ok := typParams[ref]
	if !ok || p.Type != fhir.TypeReference || !Searchable(p) {
		return nil, true, badQuery("_has: %s has no reference search parameter %q", typ, ref)
	}
	if !slices.Contains(p.Targets, resourceType) {
		return nil, false, badQuery("_has: %s of %s cannot point to a %s", ref, typ, resourceType)
	}
	if strings.Contains(innerKey, ".") || strings.HasPrefix(innerKey, "_has") {
		return nil, false, badQuery("_has: only one level is supported")
	}
	inner, skippable, err := parseFilters(typ, typParams, innerKey, values)
	if err != nil {
		return nil, skippable, err
	}
	out := make([]searchFilter, len(inner))
	for i, f := range inner {
		out[i] = searchFilter{code: "_has", typ: fhir.TypeReference, chain: &chainSpec{typ: typ, param: ref, rev: true, inner: []searchFilter{f}}}
	}
	return out, false, nil
}

// negated reports whether the filter matches resources without the rows
// its conditions find: :not, and :missing=true.
func (f searchFilter) negated() bool {
	return f.modifier == "not" || (f.modifier == "missing" && len(f.values) == 1 && f.values[0] == "true")
}

// canDrive reports whether a search can read its matches from this
// filter's index rows: not when the filter looks for their absence, ranks
// by other resources (_has), or compares what no index orders (:missing,
// token :text).
func (f searchFilter) canDrive() bool {
	return !f.negated() && f.modifier != "missing" && f.modifier != "text" && (f.chain == nil || !f.chain.rev)
}

// forward renders a chained parameter's condition on reference row a:
// it points to a resource of the chain's type that matches the inner
// filters and the access policy.
func (c *chainSpec) forward(s *sqlBuf, a string, col func(string) string) {
	s.w("(", col("ref_type"), " = ", s.arg(c.typ))
	c.otherMatches(s, a+".project_id", a+".ref_type", a+".ref_id")
	s.w(")")
}

// hasProbe renders a _has as a condition on the resource named by the
// three column expressions: a resource of the chain's type, matching its
// inner filters and the access policy, points to it by the reference
// parameter.
func (c *chainSpec) hasProbe(s *sqlBuf, project, resourceType, id string) {
	h := s.enter()
	defer s.leave()
	s.w("EXISTS (SELECT 1 FROM resource_references ", h, " WHERE ", h, ".project_id = ", project, " AND ", h, ".resource_type = ", s.arg(c.typ),
		" AND ", h, ".param = ", s.arg(c.param), " AND ", h, ".ref_type = ", resourceType, " AND ", h, ".ref_id = ", id)
	c.otherMatches(s, h+".project_id", h+".resource_type", h+".resource_id")
	if s.pg {
		s.w(" OFFSET 0")
	}
	s.w(")")
}

// otherMatches renders " AND ..." for the inner filters and the policy on
// the other resource named by the three column expressions.
func (c *chainSpec) otherMatches(s *sqlBuf, project, resourceType, id string) {
	for _, g := range c.inner {
		s.w(" AND ")
		g.probe(s, project, resourceType, id)
	}
	anyOfCond(s, c.anyOf, project, resourceType, id)
}

// enter opens a probe and returns its alias, unique among the probes
// around it: x, then x1, x2, ... for probes inside probes.
func (s *sqlBuf) enter() string {
	s.depth++
	if s.depth == 1 {
		return "x"
	}
	return "x" + strconv.Itoa(s.depth-1)
}

func (s *sqlBuf) leave() { s.depth-- }

// prefix renders "column starts with n" (n as stored).
func (s *sqlBuf) prefix(column, n string, probe bool) string {
	if s.pg && !probe && n != "" {
		// The byte range of the prefix lets PostgreSQL read the pattern
		// index (text_pattern_ops) even in a generic plan, which knows
		// nothing of the pattern; LIKE decides.
		return "(" + column + " ~>=~ " + s.arg(n) + " AND " + column + " ~<~ " + s.arg(prefixEnd(n)) +
			" AND " + column + ` LIKE ` + s.arg(escapeLike(n)+"%") + ` ESCAPE '\'` + ")"
	}
	return column + ` LIKE ` + s.arg(escapeLike(n)+"%") + ` ESCAPE '\'`
}

// uriAbove lists the uris :above v matches: v and each of its parents,
// cut at a "/" after the scheme's "//".
func uriAbove(v string) []string {
	out := []string{indexKey(v)}
	start := 0
	if i := strings.Index(v, "//"); i >= 0 {
		start = i + 2
	}
	for i := len(v) - 1; i > start; i-- {
		if v[i] == '/' {
			out = append(out, indexKey(v[:i]))
		}
	}
	return out
}

// limitChains applies the access policy to the other resources that q's
// chained parameters and _has look at, as a search of their type would:
// a type the policy forbids, or a hidden field searched, is refused; the
// criteria of its rules limit which of them count.
func (t Store) limitChains(q *SearchQuery) error {
	q.filters = slices.Clone(q.filters)
	for i, f := range q.filters {
		if f.chain == nil {
			continue
		}
		c := *f.chain
		if err := t.checkRead(c.typ); err != nil {
			return err
		}
		if err := t.checkHiddenSearch(SearchQuery{Type: c.typ, filters: c.inner}); err != nil {
			return err
		}
		if err := t.narrow(c.typ, &c.inner, &c.anyOf, false); err != nil {
			return err
		}
		q.filters[i].chain = &c
	}
	return nil
}

// paramCond renders "the index row a is of the filter's parameter (or of
// one of its params)", wrapped as probes wrap their columns.
func (f searchFilter) paramCond(s *sqlBuf, a string, probe bool) string {
	col := a + ".param"
	if probe {
		col = "(" + col + " || '')"
	}
	if len(f.params) > 0 {
		return col + s.in(f.params)
	}
	return col + " = " + s.arg(f.code)
}

// InCompartment limits q to the compartment of the resource
// compartmentType/id: resources whose compartment parameters (R4's
// CompartmentDefinition) point to it. Only the Patient compartment is
// defined here.
func (q *SearchQuery) InCompartment(compartmentType, id string) error {
	if compartmentType != "Patient" {
		return badQuery("Only the Patient compartment can be searched, not %s", compartmentType)
	}
	var params []string
	defs := fhir.SearchParams(q.Type)
	for _, code := range fhir.PatientCompartmentParams(q.Type) {
		if p, ok := defs[code]; ok && p.Type == fhir.TypeReference && Searchable(p) {
			params = append(params, code)
		}
	}
	if len(params) == 0 {
		return badQuery("%s resources are not in the Patient compartment", q.Type)
	}
	q.filters = append(slices.Clone(q.filters), searchFilter{code: params[0], params: params, typ: fhir.TypeReference,
		values: []string{compartmentType + "/" + id}})
	return nil
}
