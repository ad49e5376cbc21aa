package resources

import (
	"math"
	"slices"
	"strings"

	"enclave/models/fhir"
)

// numberPrefixes are the comparison prefixes of number and quantity values.
var numberPrefixes = []string{"eq", "ne", "lt", "le", "gt", "ge", "sa", "eb", "ap"}

// quantityValue is one number or quantity search value: the prefix, the
// number with the range its precision covers, and for a quantity the
// system and code asked for ("" for any).
type quantityValue struct {
	prefix          string
	num, low, high  float64
	system, code    string
	hasSystem, unit bool
}

// parseQuantity reads "[prefix]number" or, for a quantity,
// "[prefix]number|system|code" (system empty: code matches the code or
// the unit).
func parseQuantity(typ fhir.ParamType, v string) (quantityValue, bool) {
	var q quantityValue
	var number string
	q.prefix, number = splitDate(v)
	number, rest, hasUnit := strings.Cut(number, "|")
	if hasUnit {
		system, code, ok := strings.Cut(rest, "|")
		if typ != fhir.TypeQuantity || !ok || strings.Contains(code, "|") {
			return q, false
		}
		q.system, q.code, q.hasSystem, q.unit = system, code, system != "", true
	}
	var ok bool
	q.num, q.low, q.high, ok = fhir.NumberRange(number)
	return q, ok && slices.Contains(numberPrefixes, q.prefix)
}

// checkNumber refuses a number or quantity search value that cannot be read.
func checkNumber(f searchFilter, v string) error {
	if _, ok := parseQuantity(f.typ, v); ok {
		return nil
	}
	prefix, _ := splitDate(v)
	if !slices.Contains(numberPrefixes, prefix) {
		return badQuery("Unsupported prefix %q in %s=%s (use eq, ne, lt, le, gt, ge, sa, eb or ap)", prefix, f.code, v)
	}
	if f.typ == fhir.TypeQuantity {
		return badQuery("Invalid quantity %q for search parameter %q (write [prefix]number, number|system|code or number||unit)", v, f.code)
	}
	return badQuery("Invalid number %q for search parameter %q", v, f.code)
}

// quantityCond renders one number or quantity value as a condition on a
// resource_quantities row, whose columns col names. The search value's
// implicit precision decides equality: 5.4 matches stored values in
// [5.35, 5.45). gt, lt, ge and le compare with the number as written; sa
// and eb compare the stored value's own precision range with the search
// value's; ap matches within 10% of the number (and at least its
// precision range).
func quantityCond(s *sqlBuf, col func(string) string, v string) string {
	q, _ := parseQuantity(fhir.TypeQuantity, v) // checked by checkNumber
	val := col("value")
	between := func(lo, hi float64) string {
		return "(" + val + " >= " + s.arg(lo) + " AND " + val + " < " + s.arg(hi) + ")"
	}
	var cond string
	switch q.prefix {
	case "eq":
		cond = between(q.low, q.high)
	case "ne":
		cond = "NOT " + between(q.low, q.high)
	case "gt":
		cond = val + " > " + s.arg(q.num)
	case "lt":
		cond = val + " < " + s.arg(q.num)
	case "ge":
		cond = val + " >= " + s.arg(q.num)
	case "le":
		cond = val + " <= " + s.arg(q.num)
	case "sa":
		cond = col("low") + " >= " + s.arg(q.high)
	case "eb":
		cond = col("high") + " <= " + s.arg(q.low)
	case "ap":
		d := math.Abs(q.num) / 10
		cond = "(" + val + " >= " + s.arg(min(q.num-d, q.low)) + " AND " + val + " <= " + s.arg(max(q.num+d, q.high)) + ")"
	}
	if !q.unit {
		return cond
	}
	if q.hasSystem {
		cond += " AND " + col("system") + " = " + s.arg(indexKey(q.system))
		if q.code != "" {
			cond += " AND " + col("code") + " = " + s.arg(indexKey(q.code))
		}
	} else if q.code != "" {
		cond += " AND (" + col("code") + " = " + s.arg(indexKey(q.code)) + " OR " + col("unit") + " = " + s.arg(indexKey(q.code)) + ")"
	}
	return "(" + cond + ")"
}

// compositeCond renders one composite value, "token$value", as a condition
// on a resource_composites row, whose columns col names: the first
// component as a token parameter's value, the second as one of its own
// type, on the columns the row keeps it in (see the migration).
func compositeCond(s *sqlBuf, f searchFilter, col func(string) string, v string, probe bool) string {
	first, second, _ := strings.Cut(v, "$") // checked by checkValue
	code := searchFilter{code: f.code, typ: fhir.TypeToken, values: []string{first}}
	value := searchFilter{code: f.code, typ: f.components[1], values: []string{second}}
	secondCol := func(name string) string {
		switch name {
		case "system", "code", "text", "raw":
			return col("v_" + name)
		case "value":
			if value.typ == fhir.TypeString {
				return col("v_text")
			}
		}
		return col(name)
	}
	return "((" + code.valueConds(s, col, probe) + ") AND (" + value.valueConds(s, secondCol, probe) + "))"
}
