package handlers

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/resources"

	"github.com/labstack/echo/v4"
)

type operationOutcome struct {
	ResourceType string         `json:"resourceType"`
	Issue        []outcomeIssue `json:"issue"`
}

type outcomeIssue struct {
	Severity   string          `json:"severity"`
	Code       string          `json:"code"`
	Details    *outcomeDetails `json:"details,omitempty"`
	Expression []string        `json:"expression,omitempty"`
}

type outcomeDetails struct {
	Text string `json:"text"`
}

func outcome(severity, code, expression, text string) operationOutcome {
	is := outcomeIssue{Severity: severity, Code: code, Details: &outcomeDetails{Text: text}}
	if expression != "" {
		is.Expression = []string{expression}
	}
	return operationOutcome{ResourceType: "OperationOutcome", Issue: []outcomeIssue{is}}
}

func writeOutcome(c echo.Context, status int, oo operationOutcome) error {
	return writeJSON(c, status, oo)
}

// issueCodes gives the OperationOutcome issue code for an HTTP status.
var issueCodes = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "login",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "not-supported",
	http.StatusConflict:              "conflict",
	http.StatusGone:                  "deleted",
	http.StatusPreconditionFailed:    "conflict",
	http.StatusUnprocessableEntity:   "processing",
	http.StatusRequestEntityTooLarge: "too-costly",
	http.StatusUnsupportedMediaType:  "not-supported",
	http.StatusServiceUnavailable:    "transient",
}

// termStatus is the status of each code of a fhir.TermError: no such
// ValueSet or CodeSystem, no such code in it, or one the server cannot
// expand.
var termStatus = map[string]int{"not-found": http.StatusNotFound, "code-invalid": http.StatusBadRequest,
	"not-supported": http.StatusUnprocessableEntity}

// FHIRError answers an API request that failed with an OperationOutcome and
// the matching status. Only messages written for clients are shown; anything
// unexpected is logged and answered with a plain 500.
func FHIRError(c echo.Context, err error, log *slog.Logger) {
	status, oo := outcomeFor(err)
	if status >= 500 {
		log.Error("FHIR request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = writeOutcome(c, status, oo)
}

func outcomeFor(err error) (int, operationOutcome) {
	var rerr *resources.ResourceError
	var qerr *resources.QueryError
	var verr *kit.ValidationError
	var he *echo.HTTPError
	var terr *fhir.TermError
	simple := func(status int, text string) (int, operationOutcome) {
		code, ok := issueCodes[status]
		if !ok {
			code = "processing"
		}
		return status, outcome("error", code, "", text)
	}
	switch {
	case errors.As(err, &rerr):
		oo := operationOutcome{ResourceType: "OperationOutcome"}
		for _, is := range rerr.Issues {
			oo.Issue = append(oo.Issue, issueOf(is))
		}
		return http.StatusBadRequest, oo
	case errors.As(err, &qerr):
		return simple(http.StatusBadRequest, qerr.Message)
	case errors.As(err, &terr):
		status, ok := termStatus[terr.Code]
		if !ok {
			status = http.StatusUnprocessableEntity
		}
		return status, outcome("error", terr.Code, "", terr.Message)
	case errors.As(err, &verr):
		// A store's refusal, one message per field, each safe to show.
		oo := operationOutcome{ResourceType: "OperationOutcome"}
		for _, field := range slices.Sorted(maps.Keys(verr.Fields)) {
			oo.Issue = append(oo.Issue, outcome("error", "invalid", field, verr.Fields[field]).Issue...)
		}
		return http.StatusBadRequest, oo
	}
	if r, ok := classify(err); ok {
		return simple(r.status, r.api(err))
	}
	switch {
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		switch {
		case he.Code == http.StatusNotFound && (msg == "" || msg == http.StatusText(http.StatusNotFound)):
			msg = "Unknown FHIR endpoint"
		case he.Code == http.StatusMethodNotAllowed:
			msg = "This FHIR endpoint does not support this HTTP method"
		case he.Code == http.StatusRequestEntityTooLarge:
			msg = "The request body is too large"
		case he.Code == http.StatusServiceUnavailable && msg != "":
			// The web layer's 503s (a request out of time, an unreachable
			// database) carry a message written for clients.
		case he.Code >= 500 || msg == "":
			msg = http.StatusText(he.Code)
		}
		return simple(he.Code, msg)
	}
	return simple(http.StatusInternalServerError, "Something went wrong on our side. It has been logged; please try again.")
}

func issueOf(is fhir.Issue) outcomeIssue {
	out := outcomeIssue{Severity: is.Severity, Code: is.Code, Details: &outcomeDetails{Text: is.Message}}
	if out.Severity == "" {
		out.Severity = "error"
	}
	if is.Expression != "" {
		out.Expression = []string{is.Expression}
	}
	return out
}
