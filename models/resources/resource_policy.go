package resources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
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

// How several rules combine, as Medplum does (medplum-server.md §1.4: a
// resource passes when any entry for its type, "*" entries included,
// matches it and supports the interaction):
//
//   - The rules that may grant a type are those naming it and the "*"
//     rules, together: a rule naming the type does not shadow "*".
//   - A resource is readable when any of them matches it (a rule without
//     criteria matches every resource of the type). Searches AND the
//     criteria of those rules into one condition, ORed between rules, so
//     that no rule costs a round trip of its own.
//   - A resource is writable when any of them that is not read-only
//     matches it, before the write and after it.
//   - A field is hidden when every rule granting the type hides it: one
//     rule that shows it is enough to read it. This is decided for the
//     type, not per resource, so that a read never has to learn which
//     rule matched; a policy that must hide a field from some resources
//     of a type and not from others needs separate policies.

// grants are the rules that may grant access to resourceType: those naming
// it and the "*" ones. Without a policy, one rule grants everything.
func (t Store) grants(resourceType string) []PolicyRule {
	if t.policy == nil {
		return fullAccess
	}
	var out []PolicyRule
	for _, r := range t.policy.Rules {
		if r.ResourceType == resourceType || r.ResourceType == "*" {
			out = append(out, r)
		}
	}
	return out
}

// fullAccess is the one rule of a store without a policy; never changed.
var fullAccess = []PolicyRule{{ResourceType: "*"}}

// writeGrants are the grants that are not read-only.
func writeGrants(rules []PolicyRule) []PolicyRule {
	var out []PolicyRule
	for _, r := range rules {
		if !r.ReadOnly {
			out = append(out, r)
		}
	}
	return out
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
	if len(t.grants(resourceType)) == 0 {
		return fmt.Errorf("%w: your access policy does not allow %s resources", kit.ErrForbidden, resourceType)
	}
	return nil
}

func (t Store) checkPolicyWrite(resourceType string) error {
	rules := t.grants(resourceType)
	switch {
	case len(rules) == 0:
		return fmt.Errorf("%w: your access policy does not allow %s resources", kit.ErrForbidden, resourceType)
	case len(writeGrants(rules)) == 0:
		return fmt.Errorf("%w: your access policy makes %s resources read-only", kit.ErrForbidden, resourceType)
	}
	return nil
}

// policyRules are the rules whose criteria limit the type for reading (or,
// with write, for writing); nil when one of the granting rules has no
// criteria, so that the type is not limited at all.
func (t Store) policyRules(resourceType string, write bool) []PolicyRule {
	rules := t.grants(resourceType)
	if write {
		rules = writeGrants(rules)
	}
	for _, r := range rules {
		if r.Criteria == "" {
			return nil
		}
	}
	return rules
}

// limited reports whether the policy limits resourceType by criteria for
// reading (or writing), which every read (or write) of the type must then
// check resource by resource.
func (t Store) limited(resourceType string, write bool) bool {
	return len(t.policyRules(resourceType, write)) > 0
}

// hasCriteria reports whether reads of the type are limited by criteria.
func (t Store) hasCriteria(resourceType string) bool { return t.limited(resourceType, false) }

// policyFilters are the filter groups of the rules limiting the type, one
// group per rule: a resource passes when it passes every filter of one
// group. None when the type is not limited.
func (t Store) policyFilters(resourceType string, write bool) ([][]searchFilter, error) {
	rules := t.policyRules(resourceType, write)
	out := make([][]searchFilter, 0, len(rules))
	for _, rule := range rules {
		_, query, _ := strings.Cut(rule.Criteria, "?")
		values, err := url.ParseQuery(query)
		if err == nil {
			var q SearchQuery
			if q, err = ParseSearch(resourceType, values, false); err == nil {
				out = append(out, q.filters)
				continue
			}
		}
		return nil, fmt.Errorf("%w: the criteria %q of your access policy cannot be applied: %v", kit.ErrForbidden, rule.Criteria, err)
	}
	return out, nil
}

// limitBy narrows q to what the policy lets the store read (or write) of
// its type. One rule's filters join q's own, where they may drive the
// search; several rules become one condition ORed between them.
func (t Store) limitBy(q *SearchQuery, write bool) error {
	return t.narrow(q.Type, &q.filters, &q.anyOf, write)
}

// narrow adds to the filters (or the filter groups anyOf) of a search of
// resourceType what the policy lets the store read (or write) of it.
func (t Store) narrow(resourceType string, filters *[]searchFilter, anyOf *[][]searchFilter, write bool) error {
	groups, err := t.policyFilters(resourceType, write)
	switch {
	case err != nil:
		return err
	case len(groups) == 1:
		*filters = append(append([]searchFilter(nil), *filters...), groups[0]...)
	case len(groups) > 1:
		for _, g := range groups {
			if len(g) == 0 {
				// "Type?" with nothing after it matches everything.
				return nil
			}
		}
		*anyOf = groups
	}
	return nil
}

// matchesCriteria reports whether the live resource type/id passes the
// criteria of the rules that let the store read it (or, with write, write
// it); always true when they do not limit the type.
func (t Store) matchesCriteria(tx *gorm.DB, resourceType, id string, write bool) (bool, error) {
	if !t.limited(resourceType, write) {
		return true, nil
	}
	q, err := ParseSearch(resourceType, url.Values{"_id": {id}}, false)
	if err != nil {
		return false, err
	}
	if err := t.limitBy(&q, write); err != nil {
		return false, err
	}
	q.Count, q.Offset, q.sort = 1, 0, nil
	found, err := t.search(tx, q)
	return len(found.Resources) > 0, err
}

// checkMayChange refuses, inside a write's transaction, to change a live
// resource the store may not change: one it cannot read is kit.ErrNotFound
// (its existence stays hidden), one only read-only rules let it read is
// kit.ErrForbidden.
func (t Store) checkMayChange(tx *gorm.DB, resourceType, id string) error {
	if ok, err := t.matchesCriteria(tx, resourceType, id, false); err != nil || !ok {
		return cmpErr(err, kit.ErrNotFound)
	}
	if len(writeGrants(t.grants(resourceType))) == len(t.grants(resourceType)) {
		return nil // the same rules: already checked
	}
	if ok, err := t.matchesCriteria(tx, resourceType, id, true); err != nil || !ok {
		return cmpErr(err, fmt.Errorf("%w: your access policy lets you only read this %s", kit.ErrForbidden, resourceType))
	}
	return nil
}

// checkWrittenMatches refuses, inside the write's transaction, a resource
// whose new content falls outside the policy's criteria: a member may not
// create or move resources beyond what they may write.
func (t Store) checkWrittenMatches(tx *gorm.DB, resourceType, id string) error {
	ok, err := t.matchesCriteria(tx, resourceType, id, true)
	if err != nil {
		return err
	}
	if !ok {
		var criteria []string
		for _, r := range t.policyRules(resourceType, true) {
			criteria = append(criteria, r.Criteria)
		}
		return fmt.Errorf("%w: your access policy only allows %s resources matching %s", kit.ErrForbidden, resourceType, strings.Join(criteria, " or "))
	}
	return nil
}

// hiddenFields are the fields every rule granting the type hides.
func (t Store) hiddenFields(resourceType string) []string {
	rules := t.grants(resourceType)
	if len(rules) == 0 {
		return nil
	}
	var out []string
	for _, f := range rules[0].HiddenFields {
		all := true
		for _, r := range rules[1:] {
			all = all && slices.Contains(r.HiddenFields, f)
		}
		if all {
			out = append(out, f)
		}
	}
	return out
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
