package handlers

import (
	"net/http"
	"testing"

	"enclave/models/fhir"
)

// TestTermErrorStatus: each code of a fhir.TermError answers its status,
// and a code without one a 422, never the invalid status 0.
func TestTermErrorStatus(t *testing.T) {
	for code, want := range map[string]int{"not-found": http.StatusNotFound, "code-invalid": http.StatusBadRequest,
		"not-supported": http.StatusUnprocessableEntity, "too-costly": http.StatusUnprocessableEntity} {
		status, oo := outcomeFor(&fhir.TermError{Code: code, Message: "m"})
		if status != want || len(oo.Issue) != 1 || oo.Issue[0].Code != code || oo.Issue[0].Details.Text != "m" {
			t.Errorf("%s: %d %+v, want %d", code, status, oo, want)
		}
	}
}
