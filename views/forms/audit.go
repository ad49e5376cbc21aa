package forms

import "strings"

// AuditFilter narrows the audit log, and is sent with GET: an action, a
// person (the actor's email address), a range of days (From and To, both
// included) and the page.
type AuditFilter struct {
	Action string `query:"action"`
	Actor  string `query:"actor"`
	From   Day    `query:"from"`
	To     Day    `query:"to"`
	Page   Int    `query:"page"`
}

// maxActor is the length of the longest email address.
const maxActor = 320

// Validate reports days and a page number that do not read, and a person
// longer than any email address.
func (f AuditFilter) Validate() Errors {
	var e Errors
	e.Add("from", f.From.Problem())
	e.Add("to", f.To.Problem())
	e.Add("page", f.Page.Problem())
	if len(f.Person()) > maxActor {
		e.Add("actor", "An email address has at most 320 characters.")
	}
	return e
}

// Person is the actor filter without surrounding spaces.
func (f AuditFilter) Person() string { return strings.TrimSpace(f.Actor) }

// PageNumber is the page asked for, counting from 1.
func (f AuditFilter) PageNumber() int { return max(f.Page.N, 1) }

// Applied is the filter as it narrows the log: without the parts that have
// an error in e, the person trimmed, and the page counted from 1.
func (f AuditFilter) Applied(e Errors) AuditFilter {
	a := AuditFilter{Actor: f.Person(), From: f.From, To: f.To, Page: IntOf(f.PageNumber())}
	if e.Of("action") == "" {
		a.Action = f.Action
	}
	if e.Of("actor") != "" {
		a.Actor = ""
	}
	return a
}
