package fhir

import "strings"

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
// elements its expression reaches (roots, less those whose rows others
// keep: see coverComposites), its terms as written, and its components
// relative to those elements.
type compiledComposite struct {
	code          string
	roots         []*fpChain
	texts         []string
	first, second [][]fpStep
	secondType    ParamType
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
// Composites cover each other only when their components are the same.
func coverComposites(cs []compiledComposite) map[string][]string {
	ps := make([]coverage, len(cs))
	for i, c := range cs {
		def := compositeDefs[c.code]
		kind := strings.Join(def.first, " | ") + "$" + strings.Join(def.second, " | ") + "$" + string(def.secondType)
		ps[i] = coverage{c.code, kind, c.texts}
	}
	answers, kept := cover(ps)
	for i := range cs {
		if texts, ok := kept[cs[i].code]; ok {
			cs[i].roots = parseTerms(texts)
		}
	}
	return answers
}

// CompositeValue is one index row of a composite parameter: the token of
// its first component and the value of its second, both found in one
// element.
type CompositeValue struct {
	Param        string
	System, Code string
	Value        IndexValue
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
		out = append(out, d.compositeValues(c, resource, rt)...)
	}
	return out
}

// compositeValues are the distinct rows of composite c in the elements of
// resource that c.roots reach.
func (d *definitions) compositeValues(c compiledComposite, resource map[string]any, rt string) []CompositeValue {
	var out []CompositeValue
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
