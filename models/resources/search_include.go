package resources

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"enclave/models/fhir"
	"enclave/models/kit"
)

// includeSpec is one _include or _revinclude: resources of Source whose
// reference parameter Param (every reference parameter, for "*" in an
// _include) points to Target (any type when empty).
type includeSpec struct {
	source, param, target string
	rev, iterate          bool
}

// Bounds of the resources a search includes: all includes together add at
// most MaxIncluded resources, found in at most maxIncludeRounds rounds of
// :iterate.
const (
	MaxIncluded      = 1000
	maxIncludeRounds = 4
)

// parseInclude reads one value of _include or _revinclude (key names which,
// with :iterate or R3's :recurse), searching resourceType.
func parseInclude(resourceType, key, value string) (includeSpec, error) {
	code, modifier, _ := strings.Cut(key, ":")
	spec := includeSpec{rev: code == "_revinclude"}
	switch modifier {
	case "":
	case "iterate", "recurse":
		spec.iterate = true
	default:
		return spec, badQuery("Unsupported modifier :%s on %s (only :iterate)", modifier, code)
	}
	parts := strings.Split(value, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return spec, badQuery("%s=%s: write SourceType:parameter or SourceType:parameter:TargetType", code, value)
	}
	spec.source, spec.param = parts[0], parts[1]
	if len(parts) == 3 {
		spec.target = parts[2]
	}
	if !fhir.IsResourceType(spec.source) || (spec.target != "" && !fhir.IsResourceType(spec.target)) {
		return spec, badQuery("%s=%s names an unknown resource type", code, value)
	}
	if fhir.IsSystemType(spec.source) {
		return spec, badQuery("%s=%s: shared definitions have no references to follow", code, value)
	}
	if spec.param != "*" || spec.rev {
		p, ok := fhir.SearchParams(spec.source)[spec.param]
		if !ok || p.Type != fhir.TypeReference || !Searchable(p) {
			return spec, badQuery("%s=%s: %s has no reference search parameter %q", code, value, spec.source, spec.param)
		}
	}
	switch {
	case spec.iterate:
	case !spec.rev && spec.source != resourceType:
		return spec, badQuery("_include=%s: without :iterate an _include follows the references of the %s resources found", value, resourceType)
	case spec.rev && spec.target != "" && spec.target != resourceType:
		return spec, badQuery("_revinclude=%s: without :iterate a _revinclude finds what references the %s resources found", value, resourceType)
	}
	return spec, nil
}

// include adds to res the resources q's _include and _revinclude find from
// its matches, each read as a search of its own type would read it: through
// the access policy (a type it forbids or a resource its criteria exclude
// is left out, hidden fields are removed, and a reference held in a hidden
// field is not followed) and within this project only.
func (t Store) include(ctx context.Context, q SearchQuery, res *SearchResult) error {
	seen := map[string]bool{}
	for _, r := range res.Resources {
		seen[r.Type+"/"+r.ID] = true
	}
	frontier := res.Resources
	for round := 0; round < maxIncludeRounds && len(frontier) > 0; round++ {
		var next []Resource
		add := func(found []Resource) {
			for _, r := range found {
				if key := r.Type + "/" + r.ID; !seen[key] && len(res.Included) < MaxIncluded {
					seen[key] = true
					res.Included = append(res.Included, r)
					next = append(next, r)
				}
			}
		}
		targets := map[string][]string{} // type -> ids to read, in first-seen order
		wanted := map[string]bool{}
		for _, spec := range q.includes {
			if round > 0 && !spec.iterate {
				continue
			}
			if spec.rev {
				found, err := t.revInclude(ctx, spec, frontier, MaxIncluded-len(res.Included))
				if err != nil {
					return err
				}
				add(found)
				continue
			}
			for typ, ids := range references(spec, frontier) {
				for _, id := range ids {
					if key := typ + "/" + id; !seen[key] && !wanted[key] {
						wanted[key] = true
						targets[typ] = append(targets[typ], id)
					}
				}
			}
		}
		for _, typ := range slices.Sorted(maps.Keys(targets)) {
			ids := targets[typ][:min(len(targets[typ]), MaxIncluded-len(res.Included))]
			if len(ids) == 0 {
				break
			}
			found, err := t.readIncluded(ctx, SearchQuery{Type: typ, Count: len(ids),
				filters: []searchFilter{{code: "_id", typ: fhir.TypeToken, values: ids}}})
			if err != nil {
				return err
			}
			add(found)
		}
		frontier = next
	}
	return nil
}

// references are the relative references the include's parameter finds in
// the resources of its source type, by target type.
func references(spec includeSpec, from []Resource) map[string][]string {
	out := map[string][]string{}
	for _, r := range from {
		if r.Type != spec.source {
			continue
		}
		res, err := decodeJSONObject(r.JSON)
		if err != nil {
			continue
		}
		var values []fhir.IndexValue
		if spec.param == "*" {
			for _, v := range fhir.ExtractIndex(res) {
				if v.Type == fhir.TypeReference {
					values = append(values, v)
				}
			}
		} else {
			values = fhir.ParamValues(res, spec.param)
		}
		for _, v := range values {
			if fhir.IsResourceType(v.RefType) && fhir.IsID(v.RefID) && (spec.target == "" || v.RefType == spec.target) {
				out[v.RefType] = append(out[v.RefType], v.RefID)
			}
		}
	}
	return out
}

// revInclude finds up to limit resources of the spec's source type whose
// parameter points to one of the resources from.
func (t Store) revInclude(ctx context.Context, spec includeSpec, from []Resource, limit int) ([]Resource, error) {
	var refs []string
	for _, r := range from {
		if spec.target == "" || r.Type == spec.target {
			refs = append(refs, r.Type+"/"+r.ID)
		}
	}
	if len(refs) == 0 || limit <= 0 {
		return nil, nil
	}
	var out []Resource
	for len(refs) > 0 {
		n := min(len(refs), MaxSearchValues)
		found, err := t.readIncluded(ctx, SearchQuery{Type: spec.source, Count: limit,
			filters: []searchFilter{{code: spec.param, typ: fhir.TypeReference, values: refs[:n]}}})
		if err != nil {
			return nil, err
		}
		out = append(out, found...)
		refs = refs[n:]
	}
	return out, nil
}

// readIncluded runs an include's own search through Search, so that the
// policy applies as it does to any search; what the policy forbids
// outright (the type, or searching by a hidden field) is simply not
// included.
func (t Store) readIncluded(ctx context.Context, q SearchQuery) ([]Resource, error) {
	q.Count = min(q.Count, MaxSearchCount)
	res, err := t.Search(ctx, q)
	if errors.Is(err, kit.ErrForbidden) {
		return nil, nil
	}
	return res.Resources, err
}
