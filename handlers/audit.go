package handlers

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/audit"
	"enclave/models/resources"
	"enclave/views"
	"enclave/views/forms"

	"github.com/labstack/echo/v4"
)

// Audit serves a project's audit log.
type Audit struct {
	Sys Directory
}

// Page shows one page of events, newest first, optionally narrowed to one
// action, one person (the actor's email) and a range of days. The parts of
// a filter that do not read are shown with their errors, and the events as
// if those parts were not given.
func (h *Audit) Page(c echo.Context, sc models.Scope) error {
	f, errs, err := bindAuditFilter(c)
	if err != nil {
		return err
	}
	vm := views.AuditVM{Actions: audit.Actions, Filter: f, Errors: errs, Applied: f.Applied(errs)}
	t := sc.Store()
	events, more, err := t.AuditLog(ctx(c), auditQuery(vm.Applied))
	if err != nil {
		return err
	}
	policies, memberships, users := auditRefs(events)
	names, err := t.AuditNames(ctx(c), policies, memberships, users)
	if err != nil {
		return err
	}
	vm.HasMore = more
	for _, e := range events {
		r := views.AuditRowVM{When: e.CreatedAt.UTC().Format("2006-01-02 15:04:05"), Who: e.ActorEmail,
			Action: e.Action, Target: auditTarget(e, names), Details: auditDetails(e, names), IP: e.IP}
		if e.UserID != nil {
			r.WhoName = names.Users[*e.UserID].Name()
		}
		vm.Rows = append(vm.Rows, r)
	}
	p, err := projectPage(c, h.Sys, sc, "Audit log")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AuditPage(p, vm))
}

// bindAuditFilter reads the filter from the query string, with errors for
// what does not read: a day, a page, an action the log does not know.
func bindAuditFilter(c echo.Context) (forms.AuditFilter, forms.Errors, error) {
	var f forms.AuditFilter
	errs, err := bindForm(c, &f)
	if a := f.Action; a != "" && !slices.Contains(audit.Actions, a) {
		errs.Add("action", "Choose an action from the list.")
	}
	return f, errs, err
}

// auditQuery is the store's filter for an applied filter (see
// forms.AuditFilter.Applied). Days are whole UTC days, as the log shows its
// times in UTC: To runs until the next midnight.
func auditQuery(f forms.AuditFilter) audit.Filter {
	q := audit.Filter{Action: f.Action, Actor: f.Actor, Page: f.PageNumber()}
	q.From, _ = f.From.Time()
	if to, ok := f.To.Time(); ok {
		q.To = to.AddDate(0, 0, 1)
	}
	return q
}

// auditRefs collects the ids that a page of events mentions, to look up
// their names at once: policies, memberships, and accounts (who acted, and
// whom member.added added).
func auditRefs(events []audit.Event) (policies, memberships, users []string) {
	for _, e := range events {
		if e.UserID != nil {
			users = append(users, *e.UserID)
		}
		if e.Action == audit.ActionMemberAdded {
			users = append(users, e.Target)
		}
		for key, raw := range auditFields(e) {
			switch {
			case key == "membership":
				memberships = append(memberships, jsonString(raw))
			case key == "id" && strings.HasPrefix(e.Action, "policy."):
				policies = append(policies, jsonString(raw))
			case policyKeys[key]:
				if ch, ok := asChange(raw); ok {
					policies = append(policies, jsonString(ch.before), jsonString(ch.after))
				} else {
					policies = append(policies, jsonString(raw))
				}
			}
		}
	}
	return compact(policies), compact(memberships), compact(users)
}

func compact(ids []string) []string {
	ids = slices.DeleteFunc(ids, func(s string) bool { return s == "" })
	slices.Sort(ids)
	return slices.Compact(ids)
}

// auditTarget names what an event is about: for memberships the member as
// they are known now, for settings the project's settings.
func auditTarget(e audit.Event, names audit.Names) string {
	switch e.Action {
	case audit.ActionSettingsUpdated:
		return "Project settings"
	case audit.ActionMemberAdded:
		if u, ok := names.Users[e.Target]; ok {
			return person(u)
		}
	}
	if raw, ok := auditFields(e)["membership"]; ok {
		if u, ok := names.Memberships[jsonString(raw)]; ok {
			return person(u)
		}
	}
	return e.Target
}

// person is a member as the audit log names them.
func person(u audit.Person) string {
	if n := u.Name(); n != "" {
		return n + " (" + u.Email + ")"
	}
	return u.Email
}

// auditLabels names the details events carry, in the order they are shown.
// Ids of what the Target column already names (id, invitation, membership)
// are left out.
var auditLabels = []struct{ key, label string }{
	{"name", "name"},
	{"description", "description"},
	{"admin", "admin"},
	{"active", "active"},
	{"accessPolicy", "access policy"},
	{"rules", "rules"},
	{"strictMode", "strict validation"},
	{"checkReferencesOnWrite", "check references on write"},
	{"defaultPatientAccessPolicy", "default patient access policy"},
	{"features", "features"},
	{"superAdmin", "super admin"},
	{"reissued", "reissued"},
	{"expiresAt", "expires"},
	{"redirectUris", "redirect URIs"},
	{"tokenLifetime", "token lifetime"},
	{"oldSecretUntil", "previous secret works until"},
	{"client", "API client"},
	{"reason", "why"},
}

// policyKeys are the details whose values are access policy ids.
var policyKeys = map[string]bool{"accessPolicy": true, "defaultPatientAccessPolicy": true}

var auditIDKeys = map[string]bool{"id": true, "invitation": true, "membership": true, "login": true}

// auditDetails tells an event's details as text, e.g. "admin: no → yes;
// access policy: none → “Readers”": changes as before → after, policies by
// name, and nothing of the ids the Target column stands for.
func auditDetails(e audit.Event, names audit.Names) string {
	fields := auditFields(e)
	if fields == nil {
		return e.Details
	}
	var parts []string
	add := func(key, label string, raw json.RawMessage) {
		if ch, ok := asChange(raw); ok {
			before, after := auditValue(key, ch.before, names), auditValue(key, ch.after, names)
			if before != after {
				parts = append(parts, label+": "+before+" → "+after)
			}
			return
		}
		switch key {
		case "admin":
			parts = append(parts, "role: "+map[bool]string{true: "admin", false: "member"}[jsonBool(raw)])
		case "reissued":
			if jsonBool(raw) {
				parts = append(parts, "a new link replaced the previous one")
			}
		default:
			parts = append(parts, label+": "+auditValue(key, raw, names))
		}
	}
	known := map[string]bool{}
	for _, l := range auditLabels {
		known[l.key] = true
		if raw, ok := fields[l.key]; ok {
			add(l.key, l.label, raw)
		}
	}
	var rest []string
	for key := range fields {
		if !known[key] && !auditIDKeys[key] {
			rest = append(rest, key)
		}
	}
	slices.Sort(rest)
	for _, key := range rest {
		add(key, key, fields[key])
	}
	return strings.Join(parts, "; ")
}

// auditFields are an event's details by key; nil when they are not a JSON
// object.
func auditFields(e audit.Event) map[string]json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(e.Details), &fields) != nil {
		return nil
	}
	return fields
}

type change struct{ before, after json.RawMessage }

// asChange reads a audit.Change: an object of exactly before and after.
func asChange(raw json.RawMessage) (change, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) != 2 {
		return change{}, false
	}
	before, ok1 := m["before"]
	after, ok2 := m["after"]
	return change{before, after}, ok1 && ok2
}

// auditValue shows one value of a detail: yes or no, a quoted text, a list,
// a policy's name, a rule summary or a time.
func auditValue(key string, raw json.RawMessage, names audit.Names) string {
	switch {
	case policyKeys[key]:
		id := jsonString(raw)
		if id == "" {
			return "none"
		}
		if name, ok := names.Policies[id]; ok {
			return "“" + name + "”"
		}
		return "a deleted policy"
	case key == "rules":
		var rules resources.PolicyRules
		if json.Unmarshal(raw, &rules) == nil {
			return ruleSummary(rules)
		}
	case key == "tokenLifetime":
		if d, err := time.ParseDuration(jsonString(raw)); err == nil {
			return lifetime(d)
		}
	case (key == "expiresAt" || key == "oldSecretUntil") && string(raw) != "null":
		var t time.Time
		if json.Unmarshal(raw, &t) == nil {
			return when(t)
		}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	switch v := v.(type) {
	case nil:
		return "none"
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case string:
		if v == "" {
			return "none"
		}
		return "“" + v + "”"
	case []any:
		if len(v) == 0 {
			return "none"
		}
		items := make([]string, len(v))
		for i, item := range v {
			if s, ok := item.(string); ok {
				items[i] = s
			} else {
				b, _ := json.Marshal(item)
				items[i] = string(b)
			}
		}
		return strings.Join(items, ", ")
	}
	return string(raw)
}

// lifetime tells a duration in whole hours or minutes, e.g. "1 hour".
func lifetime(d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}

func jsonString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func jsonBool(raw json.RawMessage) bool {
	var b bool
	_ = json.Unmarshal(raw, &b)
	return b
}
