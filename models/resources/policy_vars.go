package resources

import (
	"net/url"
	"regexp"
	"strings"
)

// A rule's criteria may name the caller's profile resource with variables,
// as Medplum's do, so that one policy serves every member:
//
//	%profile     the caller's profile, as a reference: Practitioner/123
//	%profile.id  its id: 123
//	%patient     the caller's profile when it is a Patient: Patient/123
//	%patient.id  its id
//
// A policy is bound to a caller (ForProfile) when a store is made for them,
// never stored bound. A rule whose variables the caller cannot fill (no
// profile, or %patient for someone who is not a Patient) grants nothing.

// policyVar finds what looks like a variable in criteria: a % and a name,
// maybe with .id. Percent-escapes such as %2F or %C3 look alike; Validate
// tells them apart.
var policyVar = regexp.MustCompile(`%[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?`)

// knownVars are the variables criteria may use.
var knownVars = map[string]bool{"%profile": true, "%profile.id": true, "%patient": true, "%patient.id": true}

// unknownVar returns the first variable in criteria that is not one of
// knownVars and not a percent-escape ("" when there is none).
func unknownVar(criteria string) string {
	for _, v := range policyVar.FindAllString(criteria, -1) {
		escape := len(v) >= 3 && isHex(v[1]) && isHex(v[2])
		if !knownVars[v] && !escape {
			return v
		}
	}
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// bindVars replaces the variables of criteria with the caller's profile
// (a reference like Patient/123, or ""); ok is false when one of them
// cannot be filled.
func bindVars(criteria, profile string) (string, bool) {
	if !strings.Contains(criteria, "%") {
		return criteria, true
	}
	profileType, profileID, _ := strings.Cut(profile, "/")
	ok := true
	out := policyVar.ReplaceAllStringFunc(criteria, func(v string) string {
		if !knownVars[v] {
			return v // a percent-escape
		}
		name, id := strings.CutSuffix(v, ".id")
		if profileID == "" || name == "%patient" && profileType != "Patient" {
			ok = false
			return v
		}
		if id {
			return url.QueryEscape(profileID)
		}
		return url.QueryEscape(profile)
	})
	return out, ok
}

// ForProfile returns the policy as it applies to a caller whose profile is
// profile ("Patient/123"; "" for a caller without one): its variables
// replaced, and the rules that cannot be filled left out, since they grant
// such a caller nothing. p itself is not changed.
func (p AccessPolicy) ForProfile(profile string) AccessPolicy {
	rules := make(PolicyRules, 0, len(p.Rules))
	for _, r := range p.Rules {
		c, ok := bindVars(r.Criteria, profile)
		if !ok {
			continue
		}
		r.Criteria = c
		rules = append(rules, r)
	}
	p.Rules = rules
	return p
}
