package handlers

import (
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/resources"
	"errors"
	"net/http"
)

// errorRule is one row of the table from domain errors to HTTP: the status,
// what a console page says, and what an API OperationOutcome says (given the
// error, whose wrapped detail it may repeat).
type errorRule struct {
	err    error
	status int
	page   string
	api    func(err error) string
}

// errorTable is the one place domain errors get an HTTP status. The console's
// error page (the web layer's error handler, through PageError) and the FHIR
// API's OperationOutcome (outcomeFor) both read it, so the two cannot drift.
var errorTable = []errorRule{
	{kit.ErrNotFound, http.StatusNotFound, "This page does not exist, or you do not have access to it.",
		func(err error) string {
			var nf *fhirNotFound
			if errors.As(err, &nf) {
				return nf.Error()
			}
			return "Not found"
		}},
	{resources.ErrGone, http.StatusGone, "This resource has been deleted. Its history is kept, but it can no longer be read or changed.",
		func(error) string { return "The resource has been deleted" }},
	{resources.ErrPreconditionFailed, http.StatusPreconditionFailed, "This changed since you loaded it. Reload the page and try again.",
		func(err error) string { return "Precondition failed: " + detail(err, resources.ErrPreconditionFailed) }},
	{resources.ErrUnprocessable, http.StatusUnprocessableEntity, "This change cannot be applied to the resource as it is now.",
		func(err error) string { return "Unprocessable: " + detail(err, resources.ErrUnprocessable) }},
	{kit.ErrStale, http.StatusConflict, "Someone else changed this while you were editing. Reload the page and try again.",
		func(err error) string { return "Conflict: " + detail(err, kit.ErrStale) }},
	{kit.ErrConflict, http.StatusConflict, "This clashes with something that already exists.",
		func(err error) string { return "Conflict: " + detail(err, kit.ErrConflict) }},
	{members.ErrLastAdmin, http.StatusBadRequest, "The project must keep at least one active admin who can sign in. Make another member an admin first.",
		func(error) string {
			return "The project must keep at least one active admin who can sign in: make another member an admin first"
		}},
	{kit.ErrForbidden, http.StatusForbidden, "You are not allowed to do that.",
		func(err error) string { return "Forbidden: " + detail(err, kit.ErrForbidden) }},
}

// classify finds err's row in errorTable.
func classify(err error) (errorRule, bool) {
	for _, r := range errorTable {
		if errors.Is(err, r.err) {
			return r, true
		}
	}
	return errorRule{}, false
}

// PageError is what a console page shows for a domain error: its status and
// message. ok is false when err is not a domain error the table knows.
func PageError(err error) (status int, message string, ok bool) {
	r, ok := classify(err)
	return r.status, r.page, ok
}

// detail returns the detail a wrapped sentinel error carries after its own
// text, or the whole text.
func detail(err, sentinel error) string {
	msg := err.Error()
	prefix := sentinel.Error() + ": "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}
