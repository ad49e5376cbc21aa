package resources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"enclave/models/fhir"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// WithPolicy returns the store restricted by an access policy, as a member
// with that policy sees the project's resources: only the resource types
// its rules name (or every type for "*"), writes only where a rule is not
// read-only, only resources matching a rule's criteria, and never its hidden
// fields. Shared definitions stay readable. A nil policy means full access.
func (t Store) WithPolicy(p *AccessPolicy) Store {
	t.policy = p
	return t
}

// Policy is the access policy the store applies, if any.
func (t Store) Policy() *AccessPolicy { return t.policy }

// ruleFor finds the rule that governs resourceType: one naming it, else a
// "*" rule.
func (t Store) ruleFor(resourceType string) (PolicyRule, bool) {
	if t.policy == nil {
		return PolicyRule{ResourceType: "*"}, true
	}
	for _, r := range t.policy.Rules {
		if r.ResourceType == resourceType {
			return r, true
		}
	}
	for _, r := range t.policy.Rules {
		if r.ResourceType == "*" {
			return r, true
		}
	}
	return PolicyRule{}, false
}

// CanRead reports whether the store may read resources of the type.
func (t Store) CanRead(resourceType string) bool { return t.checkRead(resourceType) == nil }

// CanWrite reports whether the store may create, update or delete them.
func (t Store) CanWrite(resourceType string) bool { return t.checkPolicyWrite(resourceType) == nil }

// Can reports what the store may do with resources of the type, for pages
// that offer only what is allowed: read them, and write them (create,
// update, delete). The shared system definitions are readable and never
// writable. A rule's criteria still limit which resources are, one by one.
func (t Store) Can(resourceType string) (read, write bool) {
	read = t.CanRead(resourceType)
	return read, read && !fhir.IsSystemType(resourceType) && t.CanWrite(resourceType)
}

func (t Store) checkRead(resourceType string) error {
	if fhir.IsSystemType(resourceType) {
		return nil
	}
	if _, ok := t.ruleFor(resourceType); !ok {
		return fmt.Errorf("%w: your access policy does not allow %s resources", kit.ErrForbidden, resourceType)
	}
	return nil
}

func (t Store) checkPolicyWrite(resourceType string) error {
	rule, ok := t.ruleFor(resourceType)
	switch {
	case !ok:
		return fmt.Errorf("%w: your access policy does not allow %s resources", kit.ErrForbidden, resourceType)
	case rule.ReadOnly:
		return fmt.Errorf("%w: your access policy makes %s resources read-only", kit.ErrForbidden, resourceType)
	}
	return nil
}

// criteriaFilters are the search filters that the governing rule's
// criteria add to every query of the type.
func (t Store) criteriaFilters(resourceType string) ([]searchFilter, error) {
	rule, ok := t.ruleFor(resourceType)
	if !ok || rule.Criteria == "" {
		return nil, nil
	}
	_, query, _ := strings.Cut(rule.Criteria, "?")
	values, err := url.ParseQuery(query)
	if err == nil {
		var q SearchQuery
		if q, err = ParseSearch(resourceType, values, false); err == nil {
			return q.filters, nil
		}
	}
	return nil, fmt.Errorf("%w: the criteria %q of your access policy cannot be applied: %v", kit.ErrForbidden, rule.Criteria, err)
}

// hasCriteria reports whether the member's policy limits resourceType by
// criteria, which every read and write of the type must then check.
func (t Store) hasCriteria(resourceType string) bool {
	rule, ok := t.ruleFor(resourceType)
	return ok && rule.Criteria != ""
}

// matchesCriteria reports whether the live resource type/id passes the
// governing rule's criteria (always true without criteria).
func (t Store) matchesCriteria(tx *gorm.DB, resourceType, id string) (bool, error) {
	filters, err := t.criteriaFilters(resourceType)
	if err != nil || len(filters) == 0 {
		return err == nil, err
	}
	q, err := ParseSearch(resourceType, url.Values{"_id": {id}}, false)
	if err != nil {
		return false, err
	}
	q.filters = append(q.filters, filters...)
	q.Count, q.Offset, q.sort = 1, 0, nil
	found, err := t.search(tx, q)
	return len(found.Resources) > 0, err
}

// checkWrittenMatches refuses, inside the write's transaction, a resource
// whose new content falls outside the policy's criteria: a member may not
// create or move resources beyond what they may see.
func (t Store) checkWrittenMatches(tx *gorm.DB, resourceType, id string) error {
	ok, err := t.matchesCriteria(tx, resourceType, id)
	if err != nil {
		return err
	}
	if !ok {
		rule, _ := t.ruleFor(resourceType)
		return fmt.Errorf("%w: your access policy only allows %s resources matching %s", kit.ErrForbidden, resourceType, rule.Criteria)
	}
	return nil
}

// hiddenFields are the governing rule's hidden fields for the type.
func (t Store) hiddenFields(resourceType string) []string {
	rule, _ := t.ruleFor(resourceType)
	return rule.HiddenFields
}

// checkHiddenSearch refuses search and sort parameters that read a hidden
// field: comparing values would reveal what the policy hides.
func (t Store) checkHiddenSearch(q SearchQuery) error {
	hidden := t.hiddenFields(q.Type)
	if len(hidden) == 0 {
		return nil
	}
	params := fhir.SearchParams(q.Type)
	codes := make([]string, 0, len(q.filters)+len(q.sort))
	for _, f := range q.filters {
		codes = append(codes, f.code)
	}
	for _, k := range q.sort {
		codes = append(codes, k.code)
	}
	for _, code := range codes {
		for _, term := range strings.Split(params[code].Expression, "|") {
			path := elementPath(term)
			for _, f := range hidden {
				h := q.Type + "." + f
				if path == h || strings.HasPrefix(h, path+".") || strings.HasPrefix(path, h+".") {
					return fmt.Errorf("%w: your access policy hides %s, so you cannot search or sort by %s", kit.ErrForbidden, f, code)
				}
			}
		}
	}
	return nil
}

// elementPath is the plain element path at the start of a FHIRPath term:
// "Patient.name.where(use='x')" gives "Patient.name", "(Observation.value as
// Quantity)" gives "Observation.value".
func elementPath(term string) string {
	term = strings.TrimLeft(strings.TrimSpace(term), "(")
	if i := strings.IndexAny(term, " )"); i >= 0 {
		term = term[:i]
	}
	if i := strings.IndexByte(term, '('); i >= 0 {
		term = term[:i]
		if j := strings.LastIndexByte(term, '.'); j >= 0 {
			term = term[:j]
		}
	}
	return term
}

// redact removes the policy's hidden fields from a resource read.
func (t Store) redact(r Resource) (Resource, error) {
	hidden := t.hiddenFields(r.Type)
	if len(hidden) == 0 || len(r.JSON) == 0 {
		return r, nil
	}
	res, err := decodeJSONObject(r.JSON)
	if err != nil {
		return r, err
	}
	for _, f := range hidden {
		removePath(res, strings.Split(f, "."))
	}
	r.JSON, err = marshalResource(res)
	return r, err
}

func (t Store) redactAll(rs []Resource) ([]Resource, error) {
	for i := range rs {
		var err error
		if rs[i], err = t.redact(rs[i]); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// keepHidden copies the hidden fields of the stored version into an update,
// so that a member who cannot see them does not erase them by saving.
func (t Store) keepHidden(tx *gorm.DB, resourceType, id string, res map[string]any) error {
	hidden := t.hiddenFields(resourceType)
	if len(hidden) == 0 {
		return nil
	}
	var content string
	if err := tx.Raw(`SELECT content FROM resources WHERE project_id = ? AND resource_type = ? AND id = ?`,
		t.projectID, resourceType, id).Scan(&content).Error; err != nil {
		return err
	}
	prev, err := decodeJSONObject([]byte(content))
	if err != nil {
		return err
	}
	for _, f := range hidden {
		top, _, _ := strings.Cut(f, ".")
		if v, ok := prev[top]; ok {
			res[top] = v
		} else {
			delete(res, top)
		}
	}
	return nil
}

// removePath deletes a dotted element path, through arrays.
func removePath(v any, parts []string) {
	switch x := v.(type) {
	case map[string]any:
		if len(parts) == 1 {
			delete(x, parts[0])
			delete(x, "_"+parts[0])
			return
		}
		removePath(x[parts[0]], parts[1:])
	case []any:
		for _, e := range x {
			removePath(e, parts)
		}
	}
}

// decodeJSONObject parses stored resource JSON, keeping numbers exact.
func decodeJSONObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	err := dec.Decode(&m)
	return m, err
}
