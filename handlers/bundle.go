package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"enclave/models"
	"enclave/models/resources"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Bundle answers POST to the base with a batch or transaction Bundle: a
// batch-response or transaction-response Bundle with one entry per request
// entry, in its order. A transaction refused because of one entry answers
// that entry's status with an OperationOutcome naming it.
func (h *FHIR) Bundle(c echo.Context, sc models.Scope) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	res, err := sc.Store().ProcessBundle(ctx(c), body)
	var ee *resources.EntryError
	if errors.As(err, &ee) {
		status, oo := outcomeFor(ee.Err)
		if status >= http.StatusInternalServerError {
			return err
		}
		for i := range oo.Issue {
			oo.Issue[i].Details.Text = fmt.Sprintf("Bundle.entry[%d]: %s", ee.Index, oo.Issue[i].Details.Text)
			oo.Issue[i].Expression = append(oo.Issue[i].Expression, fmt.Sprintf("Bundle.entry[%d]", ee.Index))
		}
		return writeOutcome(c, status, oo)
	}
	if err != nil {
		return err
	}
	minimal := preferredReturn(c) == "minimal"
	b := bundle{ResourceType: "Bundle", Type: res.Type, Entry: make([]bundleEntry, 0, len(res.Entries))}
	for _, e := range res.Entries {
		entry, err := h.bundleResponse(c, e, minimal)
		if err != nil {
			return err
		}
		b.Entry = append(b.Entry, entry)
	}
	return writeJSON(c, http.StatusOK, b)
}

// bundleResponse is the response entry of one request entry.
func (h *FHIR) bundleResponse(c echo.Context, e resources.EntryResult, minimal bool) (bundleEntry, error) {
	statusLine := func(code int) string { return fmt.Sprintf("%d %s", code, http.StatusText(code)) }
	if e.Err != nil {
		status, oo := outcomeFor(e.Err)
		if status >= http.StatusInternalServerError {
			h.Log.Error("batch entry failed", "path", c.Request().URL.Path, "err", e.Err)
		}
		b, err := json.Marshal(oo)
		return bundleEntry{Response: &entryResponse{Status: statusLine(status), Outcome: b}}, err
	}
	out := bundleEntry{Response: &entryResponse{Status: statusLine(e.Status)}}
	if e.Search != nil {
		set := bundle{ResourceType: "Bundle", Type: "searchset"}
		if e.Search.Counted {
			set.Total = &e.Search.Total
		}
		set.Entry = searchsetEntries(c, *e.Search)
		b, err := json.Marshal(set)
		out.Resource = b
		return out, err
	}
	r := e.Resource
	if r.ID == "" || r.Deleted {
		return out, nil
	}
	out.FullURL = Origin(c) + paths.FHIRResource.URL(r.Type, r.ID)
	if r.VersionID != "" {
		out.Response.Location = r.Type + "/" + r.ID + "/_history/" + r.VersionID
		out.Response.Etag = etag(r)
		out.Response.LastModified = r.LastUpdated.UTC().Format(time.RFC3339Nano)
	}
	if !minimal {
		out.Resource = r.JSON
	}
	return out, nil
}
