package resources

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"enclave/models/fhir"
	"enclave/models/kit"

	"github.com/jackc/pgx/v5"
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
	Params url.Values
	// Total is the _total asked for: TotalNone (also when empty),
	// TotalEstimate or TotalAccurate.
	Total string
	// Summary is the _summary asked for ("" is false); Elements the
	// _elements. Both shape the matches, not what includes add.
	Summary  string
	Elements []string
	includes []includeSpec
	filters  []searchFilter
	// anyOf, when set, are the filter groups of an access policy's rules:
	// a match must also pass every filter of one group (see limitBy).
	anyOf [][]searchFilter
	// driver is the filter a page is read from when chosen is set (by
	// chooseDriver); otherwise the statement chooses.
	driver int
	chosen bool
	sort   []sortKey
}

type searchFilter struct {
	code     string
	typ      fhir.ParamType
	modifier string
	values   []string // any of them may match
	// chain, when set, makes this a chained reference parameter or a
	// _has (see chainSpec); values are then unused.
	chain *chainSpec
	// params, when set, are the parameters any of which may match,
	// instead of code's alone: a compartment's reference parameters, or
	// code and those its values are indexed under (fhir.StoredParams).
	params []string
	// components are a composite parameter's component types.
	components []fhir.ParamType
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
// the format is always JSON.
var ignoredParams = map[string]bool{"_format": true, "_pretty": true}

// ParseSearch reads FHIR search parameters for resourceType. Supported: _id,
// _lastUpdated, and every string, token, date, reference and uri parameter
// R4 defines for the type, with the modifiers :missing (all), :exact and
// :contains (string), :not and :text (token), :<Type> (reference), :above,
// :below and :contains (uri), date prefixes eq ne lt le gt ge sa eb, commas
// for "any of", repeated parameters for "all of", one level of chaining
// (subject:Patient.name) and of _has, _count (default 20, max 1000),
// _offset, _sort, _total, _include and _revinclude (with :iterate),
// _summary and _elements. An unknown or unsupported parameter is a
// *QueryError unless lenient (FHIR's Prefer: handling=lenient), which skips
// it.
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
	if err := checkSearchSize(q); err != nil {
		return SearchQuery{}, err
	}
	for _, key := range keys {
		values := q[key]
		code, _, _ := strings.Cut(key, ":")
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
		case code == "_total":
			switch v := values[len(values)-1]; v {
			case TotalNone, TotalEstimate, TotalAccurate:
				out.Total = v
			default:
				return SearchQuery{}, badQuery("_total must be none, estimate or accurate")
			}
			out.Params[key] = values
			continue
		case code == "_include" || code == "_revinclude":
			for _, v := range values {
				spec, err := parseInclude(resourceType, key, v)
				if err != nil {
					return SearchQuery{}, err
				}
				out.includes = append(out.includes, spec)
			}
			out.Params[key] = values
			continue
		case code == "_summary" || code == "_elements":
			var err error
			if code == "_summary" {
				err = out.parseSummary(values[len(values)-1])
			} else {
				err = out.parseElements(values)
			}
			if err != nil {
				return SearchQuery{}, err
			}
			out.Params[key] = values
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
		filters, skippable, err := parseFilters(resourceType, params, key, values)
		switch {
		case err != nil && skippable && lenient:
			continue
		case err != nil:
			return SearchQuery{}, err
		}
		out.filters = append(out.filters, filters...)
		out.Params[key] = values
	}
	return out, nil
}

// Bounds of one search, so that no request can make the database work
// without end: parameters (each repetition counts) and values (each
// comma-separated one counts).
const (
	MaxSearchParams = 100
	MaxSearchValues = 1000
)

// checkSearchSize refuses a search over the bounds, naming them.
func checkSearchSize(q url.Values) error {
	params, values := 0, 0
	for _, vs := range q {
		params += len(vs)
		for _, v := range vs {
			values += strings.Count(v, ",") + 1
		}
	}
	switch {
	case params > MaxSearchParams:
		return badQuery("A search may have at most %d parameters; this one has %d", MaxSearchParams, params)
	case values > MaxSearchValues:
		return badQuery("A search may have at most %d values in all (comma-separated values count one each); this one has %d", MaxSearchValues, values)
	}
	return nil
}

// Searchable reports whether the store indexes p and so can search by it:
// string, token, date, reference, uri, number and quantity parameters with
// an expression.
func Searchable(p fhir.SearchParam) bool {
	switch p.Type {
	case fhir.TypeString, fhir.TypeToken, fhir.TypeDate, fhir.TypeReference, fhir.TypeURI, fhir.TypeNumber, fhir.TypeQuantity:
		return p.Expression != ""
	case fhir.TypeComposite:
		return len(p.Components) == 2
	}
	return false
}

func checkModifier(code string, typ fhir.ParamType, modifier string, system bool) error {
	ok := modifier == "" || (modifier == "missing" && !system && code != "_id")
	switch typ {
	case fhir.TypeString:
		ok = ok || modifier == "exact" || modifier == "contains"
	case fhir.TypeToken:
		ok = ok || (!system && (modifier == "not" || modifier == "text"))
	case fhir.TypeReference:
		ok = ok || fhir.IsResourceType(modifier)
	case fhir.TypeURI:
		ok = ok || (!system && (modifier == "above" || modifier == "below" || modifier == "contains"))
	}
	if !ok {
		return badQuery("Unsupported modifier :%s on search parameter %q", modifier, code)
	}
	return nil
}

// datePrefixes are the supported comparison prefixes of date values.
var datePrefixes = []string{"eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"}

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
	if f.modifier == "missing" {
		if v != "true" && v != "false" {
			return badQuery("%s:missing must be true or false", f.code)
		}
		return nil
	}
	if f.typ == fhir.TypeDate {
		prefix, value := splitDate(v)
		if !slices.Contains(datePrefixes, prefix) {
			return badQuery("Unsupported date prefix %q in %s=%s (use eq, ne, lt, le, gt, ge, sa or eb)", prefix, f.code, v)
		}
		if _, _, ok := fhir.DateRange(value); !ok {
			return badQuery("Invalid date %q for search parameter %q", value, f.code)
		}
	}
	if f.typ == fhir.TypeNumber || f.typ == fhir.TypeQuantity {
		return checkNumber(f, v)
	}
	if f.typ == fhir.TypeComposite {
		parts := strings.Split(v, "$")
		if len(parts) != len(f.components) {
			return badQuery("Search parameter %q takes %d values joined by $, as in code$value; got %q", f.code, len(f.components), v)
		}
		for i, part := range parts {
			if err := checkValue(searchFilter{code: f.code, typ: f.components[i]}, part); err != nil {
				return err
			}
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
				if !ok || !Searchable(p) || p.Type == fhir.TypeComposite {
					return nil, badQuery("Cannot sort by %q", k.code)
				}
				k.typ = p.Type
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// Totals a search may ask for with _total.
const (
	TotalNone     = "none"     // no total (the default): a page never counts its matches
	TotalEstimate = "estimate" // counted up to EstimateLimit matches
	TotalAccurate = "accurate" // every match counted
)

// EstimateLimit bounds the count of _total=estimate: a search with more
// matches than this has no total.
const EstimateLimit = 10_000

// SearchResult is one page of matches. Total is the number of all matches
// when it was counted (Counted); More says whether another page follows.
type SearchResult struct {
	Resources []Resource
	// Included are the resources _include and _revinclude add, each once
	// and none of them a match.
	Included []Resource
	Total    int
	Counted  bool
	More     bool
}

// Search runs q over this project's live resources (or over the shared
// system resources, for their types). Matching runs on the index tables.
func (t Store) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	if err := checkType(q.Type); err != nil {
		return SearchResult{}, err
	}
	if fhir.IsSystemType(q.Type) {
		return q.shapeAll(searchSystem(q))
	}
	if err := t.limitSearch(&q); err != nil {
		return SearchResult{}, err
	}
	var out SearchResult
	var err error
	if t.pipelined() {
		out, err = t.searchPipelined(ctx, q)
	} else {
		err = t.tenantTx(ctx, false, func(tx *gorm.DB) error {
			var err error
			out, err = t.search(tx, q)
			return err
		})
	}
	if err != nil {
		return SearchResult{}, err
	}
	if out.Resources, err = t.redactAll(out.Resources); err != nil {
		return SearchResult{}, err
	}
	if len(q.includes) > 0 {
		if err := t.include(ctx, q, &out); err != nil {
			return SearchResult{}, err
		}
	}
	return q.shapeAll(out)
}

// limitSearch applies the access policy to a search of the project's
// resources: a type it forbids or a hidden field searched is refused, and
// its criteria narrow the matches and what chains and _has look at.
func (t Store) limitSearch(q *SearchQuery) error {
	if err := t.checkRead(q.Type); err != nil {
		return err
	}
	if err := t.checkHiddenSearch(*q); err != nil {
		return err
	}
	if err := t.limitChains(q); err != nil {
		return err
	}
	return t.limitBy(q, false)
}

// shapeAll applies _summary and _elements to the matches of res.
func (q SearchQuery) shapeAll(res SearchResult) (SearchResult, error) {
	for i := range res.Resources {
		var err error
		if res.Resources[i], err = q.shape(res.Resources[i]); err != nil {
			return SearchResult{}, err
		}
	}
	return res, nil
}

// CountByType counts the live resources of each of types, as a search with
// _total=accurate would, in one grouped statement: the type picker's counts.
// A type whose rule in the member's access policy has criteria, or a shared
// system type, is counted by its own search instead, since its matches are
// not simply its rows. A type the store may not read is an error, as its
// search would be.
func (t Store) CountByType(ctx context.Context, types []string) (map[string]int, error) {
	out := make(map[string]int, len(types))
	var grouped []string
	for _, typ := range types {
		if err := checkType(typ); err != nil {
			return nil, err
		}
		if err := t.checkRead(typ); err != nil {
			return nil, err
		}
		if !fhir.IsSystemType(typ) && !t.hasCriteria(typ) {
			grouped = append(grouped, typ)
			out[typ] = 0
			continue
		}
		q, err := ParseSearch(typ, url.Values{"_count": {"0"}, "_total": {TotalAccurate}}, false)
		if err != nil {
			return nil, err
		}
		res, err := t.Search(ctx, q)
		if err != nil {
			return nil, err
		}
		out[typ] = res.Total
	}
	if len(grouped) == 0 {
		return out, nil
	}
	pipelined := t.pipelined()
	s := &sqlBuf{dollar: pipelined, pg: kit.DialectOf(t.db) == kit.Postgres}
	s.w("SELECT r.resource_type, COUNT(*) FROM resources r WHERE r.project_id = ", s.arg(t.projectID),
		" AND r.resource_type", s.in(grouped), " AND NOT r.deleted GROUP BY r.resource_type")
	count := s.text()
	collect := func(rows resourceRows) error {
		for rows.Next() {
			var typ string
			var n int64
			if err := rows.Scan(&typ, &n); err != nil {
				return err
			}
			out[typ] = int(n)
		}
		return rows.Err()
	}
	if pipelined {
		return out, t.tenantPipeline(ctx, enterSearchSQL, []sqlText{count}, func(br pgx.BatchResults) error {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			defer rows.Close()
			return collect(rows)
		})
	}
	return out, t.tenantTx(ctx, false, func(tx *gorm.DB) error {
		rows, err := tx.Raw(count.sql, count.args...).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		return collect(rows)
	})
}

// search runs q through GORM: on kit.SQLite, or inside a transaction.
func (t Store) search(tx *gorm.DB, q SearchQuery) (SearchResult, error) {
	if err := t.chooseDriver(tx, &q); err != nil {
		return SearchResult{}, err
	}
	page, count := t.searchSQL(q, false)
	var out SearchResult
	if count != nil {
		var n int64
		if err := tx.Raw(count.sql, count.args...).Scan(&n).Error; err != nil {
			return SearchResult{}, err
		}
		out.setTotal(q, n)
	}
	if page != nil {
		rows, err := scanResources(tx.Raw(page.sql, page.args...))
		if err != nil {
			return SearchResult{}, err
		}
		out.setPage(q, rows)
	}
	return out, nil
}

// searchPipelined runs q on PostgreSQL as one pipeline: the tenant wall, the
// count when asked for, and the page.
func (t Store) searchPipelined(ctx context.Context, q SearchQuery) (SearchResult, error) {
	page, count := t.searchSQL(q, true)
	enter := enterSearchSQL
	var stmts []sqlText
	if count != nil {
		stmts = append(stmts, *count)
	}
	if page != nil {
		stmts = append(stmts, *page)
	}
	var out SearchResult
	err := t.tenantPipeline(ctx, enter, stmts, func(br pgx.BatchResults) error {
		if count != nil {
			var n int64
			if err := br.QueryRow().Scan(&n); err != nil {
				return err
			}
			out.setTotal(q, n)
		}
		if page != nil {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			found, err := scanPgxResources(rows)
			if err != nil {
				return err
			}
			out.setPage(q, found)
		}
		return nil
	})
	return out, err
}

func (r *SearchResult) setTotal(q SearchQuery, n int64) {
	if q.Total == TotalEstimate && n > EstimateLimit {
		return
	}
	r.Total, r.Counted = int(n), true
}

// setPage takes the rows of a page query, which asks for one row more than
// the page holds to learn whether another page follows.
func (r *SearchResult) setPage(q SearchQuery, rows []Resource) {
	if len(rows) > q.Count {
		rows, r.More = rows[:q.Count], true
	}
	r.Resources = rows
	if r.Counted {
		r.More = q.Offset+len(rows) < r.Total
	}
	if !r.More && !r.Counted && (len(rows) > 0 || q.Offset == 0) {
		// The last page tells the total for free.
		r.Total, r.Counted = q.Offset+len(rows), true
	}
}

// searchSQL renders q as the statement of its page (nil for _count=0) and,
// when _total asks for one, of its count.
//
// Matches come from the index of one filter, the driver; every other filter
// is a probe of the same resource in its own index (by resource id), and the
// resource row is fetched by primary key. A page in the default order (by
// last update, optionally descending) reads the driver's index in that
// order, since its rows carry the time, and stops as soon as the page is
// full: its cost depends on the page, not on how many resources match or how
// many the project holds. Other sorts collect every match and sort it.
//
// Without table statistics PostgreSQL cannot tell a probe of one row from a
// scan of thousands, so the statements leave it no choice: probes and row
// fetches are correlated subqueries behind OFFSET 0, which the planner
// cannot turn into joins, so each runs as an index look-up by resource id.
func (t Store) searchSQL(q SearchQuery, dollar bool) (page, count *sqlText) {
	driver := pickDriver(q.filters)
	pg := kit.DialectOf(t.db) == kit.Postgres
	if q.Count > 0 {
		s := &sqlBuf{dollar: dollar, pg: pg}
		desc, defaultOrder := q.defaultOrder()
		switch {
		case driver >= 0 && defaultOrder:
			t.drivenPage(s, q, driver, desc)
		case driver >= 0:
			s.w("SELECT ", resourceColumns, " FROM (SELECT d.resource_id FROM ")
			t.drivenMatches(s, q, driver)
			s.w(" GROUP BY d.resource_id) m")
			t.joinRow(s, q.Type)
			s.w(" ORDER BY ")
			q.orderBy(s)
			s.w(" LIMIT ", s.arg(q.Count+1), " OFFSET ", s.arg(q.Offset))
		default:
			s.w("SELECT ", resourceColumns, " FROM ")
			t.resourceRows(s, q)
			s.w(" ORDER BY ")
			q.orderBy(s)
			s.w(" LIMIT ", s.arg(q.Count+1), " OFFSET ", s.arg(q.Offset))
		}
		p := s.text()
		page = &p
	}
	if q.Total == TotalAccurate || q.Total == TotalEstimate {
		s := &sqlBuf{dollar: dollar, pg: pg}
		s.w("SELECT COUNT(*) FROM (")
		if driver >= 0 {
			// GROUP BY rather than DISTINCT: PostgreSQL then needs no
			// order and reads the driver's own index.
			s.w("SELECT d.resource_id FROM ")
			t.drivenMatches(s, q, driver)
			s.w(" GROUP BY d.resource_id")
		} else {
			s.w("SELECT 1 FROM ")
			t.resourceRows(s, q)
		}
		if q.Total == TotalEstimate {
			s.w(" LIMIT ", s.arg(EstimateLimit+1))
		}
		s.w(") n")
		c := s.text()
		count = &c
	}
	return page, count
}

// defaultOrder reports whether q sorts by last update (the default, or
// _lastUpdated alone), and whether descending.
func (q SearchQuery) defaultOrder() (desc, ok bool) {
	switch {
	case len(q.sort) == 0:
		return false, true
	case len(q.sort) == 1 && q.sort[0].code == "_lastUpdated":
		return q.sort[0].desc, true
	}
	return false, false
}

// pickDriver chooses the filter whose index a page is read from: the one
// likely to match fewest resources among those whose index yields rows in
// result order. -1 means none can drive (no filter, or an _id filter, which
// the primary key answers best).
func pickDriver(filters []searchFilter) int {
	best, bestRank := -1, 1<<30
	for i, f := range filters {
		if f.code == "_id" {
			return -1
		}
		if r := f.driverRank(); r < bestRank && f.canDrive() {
			best, bestRank = i, r
		}
	}
	return best
}

// driverRank orders filters as drivers, lowest first: equality on an
// identifier, a reference, a code, an exact string; then prefixes and
// ranges, whose index is not in result order; then what scans the whole
// parameter. Several values rank just below one.
func (f searchFilter) driverRank() int {
	if !f.canDrive() {
		return 100
	}
	rank := 7
	switch f.typ {
	case fhir.TypeURI:
		rank = 3
		switch f.modifier {
		case "below":
			rank = 4
		case "contains":
			rank = 6
		}
	case fhir.TypeToken, fhir.TypeComposite:
		rank = 2
		if f.code == "identifier" {
			rank = 0
		}
		for _, v := range f.values {
			if sys, code, ok := strings.Cut(v, "|"); ok && code == "" && sys != "" {
				rank = 6 // system only: not in the code index
			}
		}
	case fhir.TypeReference:
		rank = 1
		if f.chain != nil {
			rank = 5 // every reference of the parameter, each probed
		}
		for _, v := range f.values {
			if strings.Contains(v, "://") || strings.HasPrefix(v, "urn:") {
				rank = 6 // absolute: not in the id index
			}
		}
	case fhir.TypeString:
		switch f.modifier {
		case "exact":
			rank = 3
		case "contains":
			rank = 6
		default:
			rank = 4
		}
	case fhir.TypeDate, fhir.TypeNumber, fhir.TypeQuantity:
		rank = 5
		for _, v := range f.values {
			if p, _ := splitDate(v); p == "ne" {
				rank = 7
			}
		}
	}
	rank *= 2
	if len(f.values) > 1 {
		rank++
	}
	return rank
}

// resourceColumns are the columns scanResources reads, of resource row r.
const resourceColumns = "r.resource_type, r.id, r.version_id, r.last_updated, r.deleted, r.content"

// drivenPage renders a page read in order from the index of
// filters[driver].
func (t Store) drivenPage(s *sqlBuf, q SearchQuery, driver int, desc bool) {
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	cands := candidates(q.filters)
	if q.chosen {
		driver, cands = q.driver, nil
	}
	if len(cands) < 2 || !slices.Contains(cands, driver) {
		s.w("SELECT ", resourceColumns, " FROM (")
		t.drivenIDs(s, q, driver, dir, "")
		s.w(") m")
	} else {
		// Which filter matches fewest is known only from the data: count
		// each candidate's matches up to sampleLimit, then read the page
		// from the fewest (by rank among equals). Every branch but the
		// chosen one is cut off before it reads anything.
		s.w("WITH n AS (SELECT ")
		t.sampleCounts(s, q, cands)
		s.w(") SELECT ", resourceColumns, " FROM (")
		for i, c := range cands {
			if i > 0 {
				s.w(" UNION ALL ")
			}
			var guard []string
			for j := range cands {
				op := " <= "
				if j < i {
					op = " < "
				}
				if j != i {
					guard = append(guard, "(SELECT n"+strconv.Itoa(i)+" FROM n)"+op+"(SELECT n"+strconv.Itoa(j)+" FROM n)")
				}
			}
			s.w("SELECT * FROM (")
			t.drivenIDs(s, q, c, dir, strings.Join(guard, " AND "))
			s.w(") b", strconv.Itoa(i))
		}
		s.w(") m")
	}
	t.joinRow(s, q.Type)
	s.w(" ORDER BY m.updated_us", dir, ", m.resource_id", dir)
}

// sampleCounts renders, for each candidate driver, the number of its
// matches up to sampleLimit, as columns n0, n1, ...
func (t Store) sampleCounts(s *sqlBuf, q SearchQuery, cands []int) {
	for i, c := range cands {
		if i > 0 {
			s.w(", ")
		}
		f := q.filters[c]
		s.w("(SELECT COUNT(*) FROM (SELECT 1 FROM ", f.table(), " d WHERE d.project_id = ", s.arg(t.projectID),
			" AND d.resource_type = ", s.arg(q.Type), " AND ", f.paramCond(s, "d", false), " AND (")
		f.conditions(s, "d", false)
		s.w(") LIMIT ", strconv.Itoa(sampleLimit), ") c) AS n", strconv.Itoa(i))
	}
}

// chooseDriver settles q's driver from sample counts run on tx, for the
// GORM path (kit.SQLite, or inside a transaction), where a separate statement
// costs no network round trip: the fewest matches, by rank among equals.
// PostgreSQL's pipelined path makes the same choice inside its statement.
func (t Store) chooseDriver(tx *gorm.DB, q *SearchQuery) error {
	if _, ok := q.defaultOrder(); !ok || q.Count <= 0 {
		return nil
	}
	cands := candidates(q.filters)
	if len(cands) < 2 || pickDriver(q.filters) < 0 {
		return nil
	}
	s := &sqlBuf{pg: kit.DialectOf(tx) == kit.Postgres}
	s.w("SELECT ")
	t.sampleCounts(s, *q, cands)
	rows, err := tx.Raw(s.b.String(), s.args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	counts := make([]int64, len(cands))
	ptrs := make([]any, len(cands))
	for i := range counts {
		ptrs[i] = &counts[i]
	}
	if rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	best := 0
	for i := range counts {
		if counts[i] < counts[best] {
			best = i
		}
	}
	q.driver, q.chosen = cands[best], true
	return nil
}

// sampleLimit bounds the count of each candidate driver's matches.
const sampleLimit = 100

// candidates are the filters worth counting to choose a driver, best rank
// first: those whose matches an index finds directly (not :contains, ne,
// system-only tokens or absolute references, whose count could itself
// read everything).
func candidates(filters []searchFilter) []int {
	var out []int
	for i, f := range filters {
		if f.code != "_id" && f.driverRank() < 12 {
			out = append(out, i)
		}
	}
	slices.SortStableFunc(out, func(a, b int) int { return filters[a].driverRank() - filters[b].driverRank() })
	return out[:min(len(out), maxCandidates)]
}

// maxCandidates bounds the drivers a search weighs (and so the branches of
// its statement); the best-ranked come first.
const maxCandidates = 4

// drivenIDs renders the page's (updated_us, resource_id) pairs read from
// the index of filters[driver], in the order dir; guard, when set, is a
// condition that must hold for this reading to run at all.
func (t Store) drivenIDs(s *sqlBuf, q SearchQuery, driver int, dir, guard string) {
	s.w("SELECT DISTINCT d.updated_us, d.resource_id FROM ")
	t.drivenMatches(s, q, driver)
	if guard != "" {
		s.w(" AND ", guard)
	}
	s.w(" ORDER BY d.updated_us", dir, ", d.resource_id", dir, " LIMIT ", s.arg(q.Count+1), " OFFSET ", s.arg(q.Offset))
}

// drivenMatches renders the index rows d of filters[driver] that match it
// and pass every other filter: "<table> d WHERE ...".
func (t Store) drivenMatches(s *sqlBuf, q SearchQuery, driver int) {
	f := q.filters[driver]
	s.w(f.table(), " d WHERE d.project_id = ", s.arg(t.projectID), " AND d.resource_type = ", s.arg(q.Type),
		" AND ", f.paramCond(s, "d", false), " AND (")
	f.conditions(s, "d", false)
	s.w(")")
	for i, g := range q.filters {
		if i != driver {
			s.w(" AND ")
			g.probe(s, "d.project_id", "d.resource_type", "d.resource_id")
		}
	}
	q.anyOfCond(s, "d.project_id", "d.resource_type", "d.resource_id")
}

// joinRow joins the live resource row r of each match m. On PostgreSQL it
// is a fenced LATERAL subquery by primary key, whose WHERE says nothing of
// deletion so that no other index of resources can serve it (the
// resources_updated index holds live rows only); kit.SQLite, which has no
// LATERAL, plans the plain join by primary key by itself.
func (t Store) joinRow(s *sqlBuf, resourceType string) {
	if !s.pg {
		s.w(" JOIN resources r ON r.project_id = ", s.arg(t.projectID), " AND r.resource_type = ", s.arg(resourceType),
			" AND r.id = m.resource_id AND r.deleted = FALSE")
		return
	}
	s.w(", LATERAL (SELECT ", resourceColumns, ", r.project_id FROM resources r WHERE r.project_id = ", s.arg(t.projectID),
		" AND r.resource_type = ", s.arg(resourceType), " AND r.id = m.resource_id OFFSET 0) r WHERE NOT r.deleted")
}

// resourceRows renders the live resource rows r that pass q's filters, as
// "<source> r WHERE <conditions>", for searches that no index table drives:
// all resources of the type in the order of last update, or those named by
// _id, fetched by primary key (on PostgreSQL in a fenced subquery, as in
// joinRow).
func (t Store) resourceRows(s *sqlBuf, q SearchQuery) {
	byID := -1
	for i, f := range q.filters {
		if f.code == "_id" {
			byID = i
			break
		}
	}
	if !s.pg || byID < 0 {
		s.w("resources r WHERE ")
		t.resourceCond(s, q)
		return
	}
	s.w("(SELECT ", resourceColumns, ", r.project_id FROM resources r WHERE r.project_id = ", s.arg(t.projectID),
		" AND r.resource_type = ", s.arg(q.Type), " AND r.id", s.in(q.filters[byID].values), " OFFSET 0) r WHERE NOT r.deleted")
	for i, f := range q.filters {
		if i != byID {
			s.w(" AND ")
			f.probe(s, "r.project_id", "r.resource_type", "r.id")
		}
	}
	q.anyOfCond(s, "r.project_id", "r.resource_type", "r.id")
}

// resourceCond renders q's filters as conditions on the resource row r.
func (t Store) resourceCond(s *sqlBuf, q SearchQuery) {
	s.w("r.project_id = ", s.arg(t.projectID), " AND r.resource_type = ", s.arg(q.Type), " AND NOT r.deleted")
	for _, f := range q.filters {
		s.w(" AND ")
		f.probe(s, "r.project_id", "r.resource_type", "r.id")
	}
	q.anyOfCond(s, "r.project_id", "r.resource_type", "r.id")
}

// anyOfCond renders q.anyOf, when set, as " AND ((g1) OR (g2) ...)" on the
// resource named by the three column expressions: one condition in the
// statement, whatever the number of rules.
func (q SearchQuery) anyOfCond(s *sqlBuf, project, resourceType, id string) {
	anyOfCond(s, q.anyOf, project, resourceType, id)
}

// anyOfCond renders filter groups as " AND ((g1) OR (g2) ...)", nothing
// for none.
func anyOfCond(s *sqlBuf, groups [][]searchFilter, project, resourceType, id string) {
	if len(groups) == 0 {
		return
	}
	s.w(" AND (")
	for i, group := range groups {
		if i > 0 {
			s.w(" OR ")
		}
		s.w("(")
		for j, f := range group {
			if j > 0 {
				s.w(" AND ")
			}
			f.probe(s, project, resourceType, id)
		}
		s.w(")")
	}
	s.w(")")
}

// prefixEnd is the least string above every string that starts with p, in
// byte order: p with its last character's code point raised by one (UTF-8
// orders bytes as it orders code points).
func prefixEnd(p string) string {
	r := []rune(p)
	last := r[len(r)-1]
	switch {
	case last == 0xD7FF:
		last = 0xE000 // over the surrogates, which UTF-8 cannot hold
	case last >= 0x10FFFF:
		return p + "\U0010FFFF" // nothing sorts above; close enough for a bound
	default:
		last++
	}
	r[len(r)-1] = last
	return string(r)
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// probe renders the filter as a condition on the resource named by the
// three column expressions: _id compares the id, the others look the
// resource's own rows up in the filter's index table.
func (f searchFilter) probe(s *sqlBuf, project, resourceType, id string) {
	if f.code == "_id" {
		s.w(id, s.in(f.values))
		return
	}
	if f.chain != nil && f.chain.rev {
		f.chain.hasProbe(s, project, resourceType, id)
		return
	}
	if f.negated() {
		s.w("NOT ")
	}
	x := s.enter()
	defer s.leave()
	s.w("EXISTS (SELECT 1 FROM ", s.owned(f.table(), x), " WHERE ", ownedBy(x, project, resourceType, id), " AND ", f.paramCond(s, x, true), " AND (")
	f.conditions(s, x, true)
	s.w(")")
	if s.pg {
		s.w(" OFFSET 0")
	}
	s.w(")")
}

// ownedBy selects the index rows x of one resource. Only the id and the
// project can be matched by an index (the *_owner indexes lead with them):
// the other columns are wrapped in no-op expressions, because a planner
// without statistics could otherwise prefer a value index that merely
// starts with the project, type and parameter, and scan all of a
// parameter's rows for every resource it checks.
func ownedBy(x, project, resourceType, id string) string {
	return x + ".resource_id = " + id + " AND " + x + ".project_id = " + project + " AND (" + x + ".resource_type || '') = " + resourceType
}

// owned names index table as alias x for a look-up of one resource's rows.
// kit.SQLite prefers an index that covers the query to one that narrows it (the
// value indexes hold every column), so it is told which index to use.
func (s *sqlBuf) owned(table, x string) string {
	if s.pg {
		return table + " " + x
	}
	return table + " " + x + " INDEXED BY " + table + "_owner"
}

// table is the index table of the filter's parameter type.
func (f searchFilter) table() string {
	switch f.typ {
	case fhir.TypeString, fhir.TypeURI:
		return "resource_strings"
	case fhir.TypeToken:
		return "resource_tokens"
	case fhir.TypeDate:
		return "resource_dates"
	case fhir.TypeNumber, fhir.TypeQuantity:
		return "resource_quantities"
	case fhir.TypeComposite:
		return "resource_composites"
	default:
		return "resource_references"
	}
}

// conditions renders "any of the filter's values" on the index row alias a.
// Plain codes and ids become one list, which an index scan answers in one
// pass; other forms are OR-ed.
//
// In a probe (probe set), the compared columns are wrapped in no-op
// expressions that no index matches, so that the database can only find the
// probed resource's rows by its id (the *_owner indexes) instead of ranging
// over every row with the value, which a planner without statistics may
// think as cheap.
func (f searchFilter) conditions(s *sqlBuf, a string, probe bool) {
	col := func(name string) string {
		switch {
		case !probe:
			return a + "." + name
		case name == "start_us" || name == "end_us" || name == "value" && f.table() != "resource_strings" ||
			name == "low" || name == "high":
			return "(" + a + "." + name + " + 0)"
		default:
			return "(" + a + "." + name + " || '')"
		}
	}
	switch {
	case f.modifier == "missing":
		s.w("1 = 1") // any row of the parameter
		return
	case f.chain != nil:
		f.chain.forward(s, a, col)
		return
	}
	s.w(f.valueConds(s, col, probe))
}

// valueConds renders "any of the filter's values" on the index row whose
// columns col names.
func (f searchFilter) valueConds(s *sqlBuf, col func(string) string, probe bool) string {
	var ors []string
	or := func(parts ...string) { ors = append(ors, strings.Join(parts, "")) }
	var plain []string // values compared with one column by equality
	switch f.typ {
	case fhir.TypeComposite:
		for _, v := range f.values {
			or(compositeCond(s, f, col, v, probe))
		}
	case fhir.TypeURI:
		for _, v := range f.values {
			switch f.modifier {
			case "below":
				or(s.prefix(col("value"), indexKey(v), probe))
			case "contains":
				or(col("value"), ` LIKE `, s.arg("%"+escapeLike(indexKey(v))+"%"), ` ESCAPE '\'`)
			case "above":
				plain = append(plain, uriAbove(v)...)
			default:
				plain = append(plain, indexKey(v))
			}
		}
		if len(plain) > 0 {
			or(col("value"), s.in(plain))
		}
	case fhir.TypeString:
		for _, v := range f.values {
			n := indexKey(fhir.NormalizeText(v)) // as stored (see indexKey)
			switch {
			case f.modifier == "exact":
				// The normalised value narrows by index; the raw one decides.
				or("(", col("value"), " = ", s.arg(n), " AND ", col("raw"), " = ", s.arg(strings.TrimSpace(v)), ")")
			case f.modifier == "contains":
				or(col("value"), ` LIKE `, s.arg("%"+escapeLike(n)+"%"), ` ESCAPE '\'`)
			default:
				or(s.prefix(col("value"), n, probe))
			}
		}
	case fhir.TypeToken:
		for _, v := range f.values {
			if f.modifier == "text" {
				or("LOWER(", col("text"), ") LIKE ", s.arg(escapeLike(strings.ToLower(v))+"%"), ` ESCAPE '\'`)
				continue
			}
			system, code, hasSystem := strings.Cut(v, "|")
			switch {
			case !hasSystem:
				plain = append(plain, indexKey(v))
			case code == "":
				or(col("system"), " = ", s.arg(system))
			default:
				or("(", col("system"), " = ", s.arg(system), " AND ", col("code"), " = ", s.arg(indexKey(code)), ")")
			}
		}
		if len(plain) > 0 {
			or(col("code"), s.in(plain))
		}
	case fhir.TypeDate:
		for _, v := range f.values {
			prefix, value := splitDate(v)
			start, end, _ := fhir.DateRange(value)
			st, en := start.UnixMicro(), end.UnixMicro()
			inside := func() string {
				return "(" + col("start_us") + " >= " + s.arg(st) + " AND " + col("end_us") + " <= " + s.arg(en) + ")"
			}
			switch prefix {
			case "eq":
				or(inside())
			case "ne":
				or("NOT ", inside())
			case "gt":
				or(col("end_us"), " > ", s.arg(en))
			case "lt":
				or(col("start_us"), " < ", s.arg(st))
			case "ge":
				or("(", col("end_us"), " > ", s.arg(en), " OR ", inside(), ")")
			case "le":
				or("(", col("start_us"), " < ", s.arg(st), " OR ", inside(), ")")
			case "sa": // starts after the value's range ends
				or(col("start_us"), " >= ", s.arg(en))
			case "eb": // ends before the value's range starts
				or(col("end_us"), " <= ", s.arg(st))
			}
		}
	case fhir.TypeNumber, fhir.TypeQuantity:
		for _, v := range f.values {
			or(quantityCond(s, col, v))
		}
	default: // reference
		for _, v := range f.values {
			refType, refID, typed := strings.Cut(v, "/")
			switch {
			case strings.Contains(v, "://") || strings.HasPrefix(v, "urn:"):
				or(col("ref"), " = ", s.arg(v))
			case typed:
				or("(", col("ref_type"), " = ", s.arg(refType), " AND ", col("ref_id"), " = ", s.arg(indexKey(refID)), ")")
			case f.modifier != "":
				or("(", col("ref_type"), " = ", s.arg(f.modifier), " AND ", col("ref_id"), " = ", s.arg(indexKey(v)), ")")
			default:
				plain = append(plain, indexKey(v))
			}
		}
		if len(plain) > 0 {
			or(col("ref_id"), s.in(plain))
		}
	}
	return strings.Join(ors, " OR ")
}

// orderBy renders the sort keys; resources without a value for a key come
// last in both directions and on both databases. Ties end in last_updated
// and id, so pages never overlap.
func (q SearchQuery) orderBy(s *sqlBuf) {
	dir := func(desc bool) string {
		if desc {
			return " DESC"
		}
		return " ASC"
	}
	if desc, ok := q.defaultOrder(); ok {
		// One direction for both keys, so that the live-row index
		// (resources_updated) yields the order as it is, backwards for
		// descending: no sort of the whole type.
		s.w("r.last_updated", dir(desc), ", r.id", dir(desc))
		return
	}
	for _, k := range q.sort {
		var expr string
		switch {
		case k.code == "_id":
			s.w("r.id", dir(k.desc), ", ")
			continue
		case k.code == "_lastUpdated":
			s.w("r.last_updated", dir(k.desc), ", ")
			continue
		case k.typ == fhir.TypeString || k.typ == fhir.TypeURI:
			expr = "SELECT %s(x.value) FROM " + s.owned("resource_strings", "x") + " WHERE "
		case k.typ == fhir.TypeToken:
			expr = "SELECT %s(x.code) FROM " + s.owned("resource_tokens", "x") + " WHERE "
		case k.typ == fhir.TypeDate && k.desc:
			expr = "SELECT %s(x.end_us) FROM " + s.owned("resource_dates", "x") + " WHERE "
		case k.typ == fhir.TypeDate:
			expr = "SELECT %s(x.start_us) FROM " + s.owned("resource_dates", "x") + " WHERE "
		case k.typ == fhir.TypeNumber || k.typ == fhir.TypeQuantity:
			expr = "SELECT %s(x.value) FROM " + s.owned("resource_quantities", "x") + " WHERE "
		default:
			expr = "SELECT %s(x.ref) FROM " + s.owned("resource_references", "x") + " WHERE "
		}
		agg := "MIN"
		if k.desc {
			agg = "MAX"
		}
		// Each use of the subquery binds its own parameter, so that the
		// placeholders stay in order for both ways of running.
		sub := func() string {
			return "(" + strings.Replace(expr, "%s", agg, 1) + ownedBy("x", "r.project_id", "r.resource_type", "r.id") +
				" AND (x.param || '')" + s.in(fhir.StoredParams(q.Type, k.code)) + ")"
		}
		isNull := sub()
		s.w("(", isNull, " IS NULL) ASC, ")
		val := sub()
		s.w(val, dir(k.desc), ", ")
	}
	s.w("r.last_updated ASC, r.id ASC")
}

// searchSystem filters the shared system resources of one type in memory.
func searchSystem(q SearchQuery) SearchResult {
	var matches []fhir.SystemEntry
	for _, e := range fhir.SystemIndex(q.Type) {
		if systemMatch(e, q.filters) {
			matches = append(matches, e)
		}
	}
	out := SearchResult{Total: len(matches), Counted: true}
	if q.Offset >= len(matches) {
		return out
	}
	matches = matches[q.Offset:]
	out.More = len(matches) > q.Count
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
