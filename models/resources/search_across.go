package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"enclave/models/fhir"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// CrossSearch is a search over several resource types at once (GET
// /fhir/R4?_type=A,B&...): one SearchQuery per type, with the same
// criteria, merged in the order of last update.
type CrossSearch struct {
	Queries       []SearchQuery
	Count, Offset int
	// Params are the criteria as given, _type included, for paging links.
	Params url.Values
}

// MaxCrossTypes bounds the types of one cross-type search.
const MaxCrossTypes = 20

// ParseCrossSearch reads a search over the types _type lists. Every other
// parameter must be one each type has (_id, _lastUpdated, or a parameter of
// that name on every type); _sort may only be _lastUpdated, and
// _include/_revinclude are not taken.
func ParseCrossSearch(q url.Values, lenient bool) (CrossSearch, error) {
	var types []string
	for _, v := range q["_type"] {
		for typ := range strings.SplitSeq(v, ",") {
			if err := checkType(typ); err != nil {
				return CrossSearch{}, err
			}
			if !slices.Contains(types, typ) {
				types = append(types, typ)
			}
		}
	}
	switch {
	case len(types) == 0:
		return CrossSearch{}, badQuery("A search of the whole project needs _type, such as _type=Patient,Observation")
	case len(types) > MaxCrossTypes:
		return CrossSearch{}, badQuery("_type may list at most %d types", MaxCrossTypes)
	}
	rest := url.Values{}
	for k, v := range q {
		code, _, _ := strings.Cut(k, ":")
		switch {
		case code == "_type":
		case code == "_include" || code == "_revinclude":
			return CrossSearch{}, badQuery("%s is not supported in a search across types; search one type", code)
		case code == "_sort" && slices.ContainsFunc(v, func(s string) bool { return strings.TrimPrefix(s, "-") != "_lastUpdated" }):
			return CrossSearch{}, badQuery("A search across types can only be sorted by _lastUpdated")
		default:
			rest[k] = v
		}
	}
	out := CrossSearch{Params: url.Values{}}
	for _, typ := range types {
		sq, err := ParseSearch(typ, rest, lenient)
		if err != nil {
			return CrossSearch{}, fmt.Errorf("%w (searching %s)", err, typ)
		}
		out.Queries = append(out.Queries, sq)
		out.Count, out.Offset = sq.Count, sq.Offset
		for k, v := range sq.Params {
			out.Params[k] = v
		}
	}
	if out.Offset+out.Count > MaxSearchCount {
		return CrossSearch{}, badQuery("A search across types reads at most %d matches: narrow it, or page less deep", MaxSearchCount)
	}
	out.Params["_type"] = []string{strings.Join(types, ",")}
	return out, nil
}

// SearchAcross runs a cross-type search: each type's search as Search runs
// it (policy, redaction and all), then one page of their merge by last
// update (descending when _sort=-_lastUpdated), ties by type and id. A type
// the access policy forbids is left out.
func (t Store) SearchAcross(ctx context.Context, cs CrossSearch) (SearchResult, error) {
	var all []Resource
	out := SearchResult{Counted: true}
	desc := false
	for _, q := range cs.Queries {
		desc, _ = q.defaultOrder()
		q.Count, q.Offset = cs.Offset+cs.Count, 0
		res, err := t.Search(ctx, q)
		if errors.Is(err, kit.ErrForbidden) {
			continue
		}
		if err != nil {
			return SearchResult{}, err
		}
		all = append(all, res.Resources...)
		out.Total += res.Total
		out.Counted = out.Counted && res.Counted
		out.More = out.More || res.More
	}
	slices.SortStableFunc(all, func(a, b Resource) int {
		c := a.LastUpdated.Compare(b.LastUpdated)
		if desc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(a.Type+"/"+a.ID, b.Type+"/"+b.ID)
		}
		return c
	})
	if !out.Counted {
		out.Total = 0
	}
	if cs.Offset < len(all) {
		all = all[cs.Offset:]
	} else {
		all = nil
	}
	out.More = out.More || len(all) > cs.Count
	out.Resources = all[:min(len(all), cs.Count)]
	return out, nil
}

// ProjectHistory is the history of every resource of the project, newest
// first (GET /fhir/R4/_history). Under an access policy it holds the
// types the policy lets the store read whole: a type whose reading is
// limited by criteria is left out, as its own history is refused.
func (t Store) ProjectHistory(ctx context.Context, p Page) (History, error) {
	where, args := `project_id = ?`, []any{t.projectID}
	if types, all := t.wholeTypes(); !all {
		if len(types) == 0 {
			return History{}, fmt.Errorf("%w: your access policy lets you read no type whole, so there is no history to show", kit.ErrForbidden)
		}
		where += ` AND resource_type IN ?`
		args = append(args, types)
	}
	return t.readHistory(ctx, where, args, p, func(*gorm.DB, int64) error { return nil })
}

// wholeTypes are the types the policy lets the store read without
// criteria; all when it may read every type so.
func (t Store) wholeTypes() (types []string, all bool) {
	if t.policy == nil {
		return nil, true
	}
	for _, r := range t.policy.Rules {
		if r.ResourceType == "*" && r.Criteria == "" {
			return nil, true
		}
	}
	for _, r := range t.policy.Rules {
		if r.ResourceType != "*" && fhir.IsResourceType(r.ResourceType) && !fhir.IsSystemType(r.ResourceType) &&
			!t.hasCriteria(r.ResourceType) && !slices.Contains(types, r.ResourceType) {
			types = append(types, r.ResourceType)
		}
	}
	slices.Sort(types)
	return types, false
}
