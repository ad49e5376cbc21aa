package models

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"enclave/models/fhir"

	"gorm.io/gorm"
)

// Search paging limits.
const (
	DefaultSearchCount = 20
	MaxSearchCount     = 1000
)

// SearchQuery is a parsed FHIR search over one resource type. Build it with
// ParseSearch; Count and Offset may be changed afterwards.
type SearchQuery struct {
	Type   string
	Count  int
	Offset int
	// Params holds the accepted criteria and _sort as given, without _count
	// and _offset, for building the Bundle's paging links.
	Params  url.Values
	filters []searchFilter
	sort    []sortKey
}

type searchFilter struct {
	code     string
	typ      fhir.ParamType
	modifier string
	values   []string // any of them may match
}

type sortKey struct {
	code string
	typ  fhir.ParamType
	desc bool
}

// systemSearchParams are the parameters shared system resources can be
// searched by.
var systemSearchParams = map[string]fhir.ParamType{"_id": fhir.TypeToken, "name": fhir.TypeString, "url": fhir.TypeURI}

// ignoredParams are result parameters that are accepted and have no effect:
// the total is always counted and the format is always JSON.
var ignoredParams = map[string]bool{"_total": true, "_format": true, "_pretty": true}

// ParseSearch reads FHIR search parameters for resourceType. Supported: _id,
// _lastUpdated, and every string, token, date and reference parameter R4
// defines for the type, with the modifiers :exact and :contains (string) and
// :<Type> (reference), date prefixes eq ne lt le gt ge, commas for "any of",
// repeated parameters for "all of", _count (default 20, max 1000), _offset
// and _sort. An unknown or unsupported parameter is a *QueryError unless
// lenient (FHIR's Prefer: handling=lenient), which skips it.
func ParseSearch(resourceType string, q url.Values, lenient bool) (SearchQuery, error) {
	if err := checkType(resourceType); err != nil {
		return SearchQuery{}, err
	}
	out := SearchQuery{Type: resourceType, Count: DefaultSearchCount, Params: url.Values{}}
	params := fhir.SearchParams(resourceType)
	system := fhir.IsSystemType(resourceType)
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		values := q[key]
		code, modifier, _ := strings.Cut(key, ":")
		switch {
		case code == "_count" || code == "_offset":
			n, err := strconv.Atoi(values[len(values)-1])
			if err != nil || n < 0 {
				return SearchQuery{}, badQuery("%s must be a whole number of 0 or more", code)
			}
			if code == "_count" {
				out.Count = min(n, MaxSearchCount)
			} else {
				out.Offset = n
			}
			continue
		case ignoredParams[code]:
			continue
		case code == "_sort":
			keys, err := parseSort(values, params, system)
			if err != nil {
				return SearchQuery{}, err
			}
			out.sort = append(out.sort, keys...)
			out.Params[key] = values
			continue
		}
		var typ fhir.ParamType
		known := false
		if system {
			typ, known = systemSearchParams[code]
		} else if p, ok := params[code]; ok && Searchable(p) {
			typ, known = p.Type, true
		}
		if !known {
			if lenient {
				continue
			}
			return SearchQuery{}, badQuery("Unknown search parameter %q for %s", code, resourceType)
		}
		if err := checkModifier(code, typ, modifier); err != nil {
			if lenient {
				continue
			}
			return SearchQuery{}, err
		}
		for _, v := range values {
			f := searchFilter{code: code, typ: typ, modifier: modifier}
			for part := range strings.SplitSeq(v, ",") {
				if err := checkValue(f, part); err != nil {
					return SearchQuery{}, err
				}
				f.values = append(f.values, part)
			}
			out.filters = append(out.filters, f)
		}
		out.Params[key] = values
	}
	return out, nil
}

// Searchable reports whether the store indexes p and so can search by it:
// string, token, date and reference parameters with an expression.
func Searchable(p fhir.SearchParam) bool {
	t := p.Type
	return p.Expression != "" && (t == fhir.TypeString || t == fhir.TypeToken || t == fhir.TypeDate || t == fhir.TypeReference)
}

func checkModifier(code string, typ fhir.ParamType, modifier string) error {
	ok := modifier == ""
	switch typ {
	case fhir.TypeString:
		ok = ok || modifier == "exact" || modifier == "contains"
	case fhir.TypeReference:
		ok = ok || fhir.IsResourceType(modifier)
	}
	if !ok {
		return badQuery("Unsupported modifier :%s on search parameter %q", modifier, code)
	}
	return nil
}

// datePrefixes are the supported comparison prefixes of date values.
var datePrefixes = []string{"eq", "ne", "lt", "le", "gt", "ge"}

func splitDate(v string) (prefix, value string) {
	if len(v) > 2 && v[0] >= 'a' && v[0] <= 'z' {
		return v[:2], v[2:]
	}
	return "eq", v
}

func checkValue(f searchFilter, v string) error {
	if v == "" {
		return badQuery("Search parameter %q has an empty value", f.code)
	}
	if f.typ == fhir.TypeDate {
		prefix, value := splitDate(v)
		if !slices.Contains(datePrefixes, prefix) {
			return badQuery("Unsupported date prefix %q in %s=%s (use eq, ne, lt, le, gt or ge)", prefix, f.code, v)
		}
		if _, _, ok := fhir.DateRange(value); !ok {
			return badQuery("Invalid date %q for search parameter %q", value, f.code)
		}
	}
	return nil
}

func parseSort(values []string, params map[string]fhir.SearchParam, system bool) ([]sortKey, error) {
	var out []sortKey
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			k := sortKey{code: strings.TrimPrefix(part, "-"), desc: strings.HasPrefix(part, "-")}
			switch {
			case system:
				return nil, badQuery("Shared system resources are listed by id and cannot be sorted")
			case k.code == "_id" || k.code == "_lastUpdated":
			default:
				p, ok := params[k.code]
				if !ok || !Searchable(p) {
					return nil, badQuery("Cannot sort by %q", k.code)
				}
				k.typ = p.Type
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// SearchResult is one page of matches with the number of all matches.
type SearchResult struct {
	Resources []Resource
	Total     int
}

// Search runs q over this project's live resources (or over the shared
// system resources, for their types). Matching runs on the index tables.
func (t Tenant) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	if err := checkType(q.Type); err != nil {
		return SearchResult{}, err
	}
	if fhir.IsSystemType(q.Type) {
		return searchSystem(q), nil
	}
	if err := t.checkRead(q.Type); err != nil {
		return SearchResult{}, err
	}
	if err := t.checkHiddenSearch(q); err != nil {
		return SearchResult{}, err
	}
	filters, err := t.criteriaFilters(q.Type)
	if err != nil {
		return SearchResult{}, err
	}
	q.filters = append(append([]searchFilter(nil), q.filters...), filters...)
	var out SearchResult
	err = t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		var err error
		if out, err = t.search(tx, q); err != nil {
			return err
		}
		out.Resources, err = t.redactAll(out.Resources)
		return err
	})
	return out, err
}

// ownRow joins an index table alias x to the resource row r.
const ownRow = `x.project_id = r.project_id AND x.resource_type = r.resource_type AND x.resource_id = r.id AND x.param = ?`

func (t Tenant) search(tx *gorm.DB, q SearchQuery) (SearchResult, error) {
	where := []string{"r.project_id = ?", "r.resource_type = ?", "r.deleted = FALSE"}
	args := []any{t.projectID, q.Type}
	for _, f := range q.filters {
		sql, fargs := f.sql(t.projectID, q.Type)
		where = append(where, sql)
		args = append(args, fargs...)
	}
	cond := strings.Join(where, " AND ")
	var total int64
	if err := tx.Raw(`SELECT COUNT(*) FROM resources r WHERE `+cond, args...).Scan(&total).Error; err != nil {
		return SearchResult{}, err
	}
	out := SearchResult{Total: int(total)}
	if q.Count <= 0 || q.Offset >= out.Total {
		return out, nil
	}
	order, oargs := q.orderBy()
	args = append(args, oargs...)
	args = append(args, q.Count, q.Offset)
	rows, err := scanResources(tx.Raw(`SELECT r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content
		FROM resources r WHERE `+cond+` ORDER BY `+order+` LIMIT ? OFFSET ?`, args...))
	out.Resources = rows
	return out, err
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// sql renders one filter as a condition on the resource row r: a semi-join
// on the index table, which both databases run once per query rather than
// once per resource row.
func (f searchFilter) sql(projectID, resourceType string) (string, []any) {
	if f.code == "_id" {
		return "r.id IN ?", []any{f.values}
	}
	table, ors, args := f.conditions()
	return "r.id IN (SELECT x.resource_id FROM " + table + " x WHERE x.project_id = ? AND x.resource_type = ? AND x.param = ? AND (" +
		strings.Join(ors, " OR ") + "))", append([]any{projectID, resourceType, f.code}, args...)
}

// conditions returns the index table of the filter and one condition on its
// row x per value.
func (f searchFilter) conditions() (table string, ors []string, args []any) {
	switch f.typ {
	case fhir.TypeString:
		for _, v := range f.values {
			n := fhir.NormalizeText(v)
			switch f.modifier {
			case "exact":
				// The normalised value narrows by index; the raw one decides.
				ors = append(ors, "(x.value = ? AND x.raw = ?)")
				args = append(args, n, strings.TrimSpace(v))
			case "contains":
				ors = append(ors, `x.value LIKE ? ESCAPE '\'`)
				args = append(args, "%"+escapeLike(n)+"%")
			default:
				ors = append(ors, `x.value LIKE ? ESCAPE '\'`)
				args = append(args, escapeLike(n)+"%")
			}
		}
		return "resource_strings", ors, args
	case fhir.TypeToken:
		for _, v := range f.values {
			system, code, hasSystem := strings.Cut(v, "|")
			switch {
			case !hasSystem:
				ors = append(ors, "x.code = ?")
				args = append(args, v)
			case code == "":
				ors = append(ors, "x.system = ?")
				args = append(args, system)
			default:
				ors = append(ors, "(x.system = ? AND x.code = ?)")
				args = append(args, system, code)
			}
		}
		return "resource_tokens", ors, args
	case fhir.TypeDate:
		for _, v := range f.values {
			prefix, value := splitDate(v)
			start, end, _ := fhir.DateRange(value)
			s, e := start.UnixMicro(), end.UnixMicro()
			const inside = "(x.start_us >= ? AND x.end_us <= ?)"
			switch prefix {
			case "eq":
				ors = append(ors, inside)
				args = append(args, s, e)
			case "ne":
				ors = append(ors, "NOT "+inside)
				args = append(args, s, e)
			case "gt":
				ors = append(ors, "x.end_us > ?")
				args = append(args, e)
			case "lt":
				ors = append(ors, "x.start_us < ?")
				args = append(args, s)
			case "ge":
				ors = append(ors, "(x.end_us > ? OR "+inside+")")
				args = append(args, e, s, e)
			case "le":
				ors = append(ors, "(x.start_us < ? OR "+inside+")")
				args = append(args, s, s, e)
			}
		}
		return "resource_dates", ors, args
	default: // reference
		for _, v := range f.values {
			refType, refID, typed := strings.Cut(v, "/")
			switch {
			case strings.Contains(v, "://") || strings.HasPrefix(v, "urn:"):
				ors = append(ors, "x.ref = ?")
				args = append(args, v)
			case typed:
				ors = append(ors, "(x.ref_type = ? AND x.ref_id = ?)")
				args = append(args, refType, refID)
			case f.modifier != "":
				ors = append(ors, "(x.ref_type = ? AND x.ref_id = ?)")
				args = append(args, f.modifier, v)
			default:
				ors = append(ors, "x.ref_id = ?")
				args = append(args, v)
			}
		}
		return "resource_references", ors, args
	}
}

// orderBy renders the sort keys; resources without a value for a key come
// last in both directions and on both databases. Ties end in last_updated
// and id, so pages never overlap.
func (q SearchQuery) orderBy() (string, []any) {
	var parts []string
	var args []any
	dir := func(desc bool) string {
		if desc {
			return " DESC"
		}
		return " ASC"
	}
	for _, k := range q.sort {
		var expr string
		switch {
		case k.code == "_id":
			parts = append(parts, "r.id"+dir(k.desc))
			continue
		case k.code == "_lastUpdated":
			parts = append(parts, "r.last_updated"+dir(k.desc))
			continue
		case k.typ == fhir.TypeString:
			expr = "SELECT %s(x.value) FROM resource_strings x WHERE " + ownRow
		case k.typ == fhir.TypeToken:
			expr = "SELECT %s(x.code) FROM resource_tokens x WHERE " + ownRow
		case k.typ == fhir.TypeDate:
			expr = "SELECT %s(x.start_us) FROM resource_dates x WHERE " + ownRow
			if k.desc {
				expr = "SELECT %s(x.end_us) FROM resource_dates x WHERE " + ownRow
			}
		default:
			expr = "SELECT %s(x.ref) FROM resource_references x WHERE " + ownRow
		}
		agg := "MIN"
		if k.desc {
			agg = "MAX"
		}
		expr = "(" + strings.Replace(expr, "%s", agg, 1) + ")"
		parts = append(parts, "("+expr+" IS NULL) ASC", expr+dir(k.desc))
		args = append(args, k.code, k.code)
	}
	parts = append(parts, "r.last_updated ASC", "r.id ASC")
	return strings.Join(parts, ", "), args
}

// searchSystem filters the shared system resources of one type in memory.
func searchSystem(q SearchQuery) SearchResult {
	var matches []fhir.SystemEntry
	for _, e := range fhir.SystemIndex(q.Type) {
		if systemMatch(e, q.filters) {
			matches = append(matches, e)
		}
	}
	out := SearchResult{Total: len(matches)}
	if q.Offset >= len(matches) {
		return out
	}
	matches = matches[q.Offset:]
	matches = matches[:min(len(matches), q.Count)]
	for _, e := range matches {
		b, _ := fhir.SystemResource(e.ResourceType, e.ID)
		out.Resources = append(out.Resources, Resource{Type: e.ResourceType, ID: e.ID, JSON: b})
	}
	return out
}

func systemMatch(e fhir.SystemEntry, filters []searchFilter) bool {
	for _, f := range filters {
		hit := false
		for _, v := range f.values {
			switch f.code {
			case "_id":
				hit = hit || e.ID == v
			case "url":
				hit = hit || e.URL == v
			case "name":
				name, want := fhir.NormalizeText(e.Name), fhir.NormalizeText(v)
				switch f.modifier {
				case "exact":
					hit = hit || name == want
				case "contains":
					hit = hit || strings.Contains(name, want)
				default:
					hit = hit || strings.HasPrefix(name, want)
				}
			}
		}
		if !hit {
			return false
		}
	}
	return true
}
