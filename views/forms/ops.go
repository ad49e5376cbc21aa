package forms

import "strings"

// CloneProject is the dashboard's clone form: the copy's name, the resource
// types to copy, and whether the memberships come along (otherwise the
// copy's only member is the operator, as admin).
type CloneProject struct {
	Name        string   `form:"name"`
	Types       []string `form:"types"`
	Memberships Checkbox `form:"memberships"`
}

// Validate asks for a name.
func (f CloneProject) Validate() Errors {
	var e Errors
	if strings.TrimSpace(f.Name) == "" {
		e.Add("name", "Name the copy.")
	}
	return e
}

// ConfirmProject confirms an operator's act on a project: its name, typed.
type ConfirmProject struct {
	Confirm string `form:"confirm"`
}

// GlobalAudit filters the dashboard's audit log, and is sent with GET: a
// project (its id or name), a person (the actor's email), an action, and
// where the page starts (a cursor the previous page's link carries).
type GlobalAudit struct {
	Project string `query:"project"`
	Actor   string `query:"actor"`
	Action  string `query:"action"`
	Before  string `query:"before"`
}

// Validate bounds the free-text filters.
func (f GlobalAudit) Validate() Errors {
	var e Errors
	if len(f.Project) > maxSearch {
		e.Add("project", "A project's name or id has at most 200 characters.")
	}
	if len(strings.TrimSpace(f.Actor)) > maxActor {
		e.Add("actor", "An email address has at most 320 characters.")
	}
	return e
}
