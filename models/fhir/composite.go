package fhir

import (
	"slices"
	"strings"
)

// compositeDef names the two components of a composite search parameter, as
// expressions relative to each element the parameter's own expression
// reaches (R4 lists them in SearchParameter.component): the first a token,
// the second of type second. Both values of one index row come from the same
// element, so a component's code never pairs with another component's
// value.
type compositeDef struct {
	first, second []string
	secondType    ParamType
}

// compositeDefs are the composite parameters the store searches, by code.
// The others (reference or coordinate components) stay unsupported.
var compositeDefs = map[string]compositeDef{
	"code-value-quantity":           {[]string{"code"}, []string{"value.ofType(Quantity)"}, TypeQuantity},
	"code-value-concept":            {[]string{"code"}, []string{"value.ofType(CodeableConcept)"}, TypeToken},
	"code-value-date":               {[]string{"code"}, []string{"value.ofType(dateTime)", "value.ofType(Period)"}, TypeDate},
	"code-value-string":             {[]string{"code"}, []string{"value.ofType(string)"}, TypeString},
	"combo-code-value-quantity":     {[]string{"code"}, []string{"value.ofType(Quantity)"}, TypeQuantity},
	"combo-code-value-concept":      {[]string{"code"}, []string{"value.ofType(CodeableConcept)"}, TypeToken},
	"component-code-value-quantity": {[]string{"code"}, []string{"value.ofType(Quantity)"}, TypeQuantity},
	"component-code-value-concept":  {[]string{"code"}, []string{"value.ofType(CodeableConcept)"}, TypeToken},
	"context-type-quantity":         {[]string{"code"}, []string{"value.ofType(Quantity)"}, TypeQuantity},
	"context-type-value":            {[]string{"code"}, []string{"value.ofType(CodeableConcept)"}, TypeToken},
	"characteristic-value":          {[]string{"code"}, []string{"value.ofType(CodeableConcept)"}, TypeToken},
}

// compiledComposite is a supported composite parameter of one type: the
// elements its expression reaches, and its components relative to them.
type compiledComposite struct {
	code          string
	roots         []*fpChain
	first, second [][]fpStep
	secondType    ParamType
	// texts are the expression's terms as written, each parsed into
	// rootsOf[i].
	texts   []string
	rootsOf [][]*fpChain
}

// compileComposite parses a composite parameter's expression and
// components; ok is false for a composite the store does not search.
func compileComposite(code string, terms []string) (compiledComposite, bool) {
	def, known := compositeDefs[code]
	if !known {
		return compiledComposite{}, false
	}
	c := compiledComposite{code: code, secondType: def.secondType}
	for _, term := range terms {
		parsed, err := parseFHIRPath(term)
		if err != nil {
			return compiledComposite{}, false
		}
		c.roots = append(c.roots, parsed...)
		c.texts = append(c.texts, strings.TrimSpace(term))
		c.rootsOf = append(c.rootsOf, parsed)
	}
	relative := func(exprs []string) [][]fpStep {
		var out [][]fpStep
		for _, e := range exprs {
			// Parsed under a placeholder root, which the evaluation skips.
			chains, err := parseFHIRPath("X." + e)
			if err != nil || len(chains) != 1 || chains[0].group != nil {
				panic("fhir: composite component " + e)
			}
			out = append(out, chains[0].steps[1:])
		}
		return out
	}
	c.first, c.second = relative(def.first), relative(def.second)
	return c, len(c.roots) > 0
}

// coverComposites does for composite parameters what coverParams does for
// the others: Observation's combo-code-value-quantity pairs what
// code-value-quantity pairs on the Observation and what
// component-code-value-quantity pairs on its components, so it keeps rows
// only for the rest of its expression (here none). It returns, for each
// covered composite, the codes whose rows answer it, its own first.
func coverComposites(cs []compiledComposite) map[string][]string {
	same := func(a, b compositeDef) bool {
		return slices.Equal(a.first, b.first) && slices.Equal(a.second, b.second) && a.secondType == b.secondType
	}
	out := map[string][]string{}
	for i := range cs {
		p := &cs[i]
		var by []string
		var roots []*fpChain
		for k, t := range p.texts {
			covered := false
			for j := range cs {
				q := &cs[j]
				if q.code == p.code || len(q.texts) >= len(p.texts) || !same(compositeDefs[q.code], compositeDefs[p.code]) {
					continue
				}
				inside := true
				for _, qt := range q.texts {
					inside = inside && slices.Contains(p.texts, qt)
				}
				if inside && slices.Contains(q.texts, t) {
					if !slices.Contains(by, q.code) {
						by = append(by, q.code)
					}
					covered = true
					break
				}
			}
			if !covered {
				roots = append(roots, p.rootsOf[k]...)
			}
		}
		if len(by) > 0 {
			p.roots = roots
			out[p.code] = append([]string{p.code}, by...)
		}
	}
	return out
}

// CompositeValue is one index row of a composite parameter: the token of
// its first component and the value of its second, both found in one
// element.
type CompositeValue struct {
	Param        string
	System, Code string
	Value        IndexValue
}

// CompositeComponents returns the types of a composite parameter's two
// components, or nil when the store does not search by it.
func CompositeComponents(resourceType, code string) []ParamType {
	for _, c := range defs().composites[resourceType] {
		if c.code == code {
			return []ParamType{TypeToken, c.secondType}
		}
	}
	return nil
}

// ExtractComposites returns the composite index rows of the resource: for
// every element a supported composite parameter reaches, every pairing of
// its first component's codes with its second component's values.
func ExtractComposites(resource map[string]any) []CompositeValue {
	rt, _ := resource["resourceType"].(string)
	if !isResourceType(rt) {
		return nil
	}
	d := defs()
	var out []CompositeValue
	for _, c := range d.composites[rt] {
		seen := map[CompositeValue]bool{}
		for _, root := range d.eval(c.roots, resource, rt) {
			codes := d.componentValues(root, c.first, SearchParam{Code: c.code, Type: TypeToken})
			if len(codes) == 0 {
				continue
			}
			values := d.componentValues(root, c.second, SearchParam{Code: c.code, Type: c.secondType})
			for _, code := range codes {
				if code.Code == "" {
					continue
				}
				for _, v := range values {
					cv := CompositeValue{Param: c.code, System: code.System, Code: code.Code, Value: v}
					if !seen[cv] {
						seen[cv] = true
						out = append(out, cv)
					}
				}
			}
		}
	}
	return out
}

// componentValues are the index values of one component of element root.
func (d *definitions) componentValues(root fpNode, paths [][]fpStep, p SearchParam) []IndexValue {
	var out []IndexValue
	for _, steps := range paths {
		cur := []fpNode{root}
		for _, s := range steps {
			cur = d.step(s, cur)
		}
		for _, n := range cur {
			out = append(out, indexValues(p, n)...)
		}
	}
	return out
}
