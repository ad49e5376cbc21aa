package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// FHIRMediaType is the content type of every API answer.
const FHIRMediaType = "application/fhir+json; charset=utf-8"

// JSONPatchMediaType is the one body PATCH takes.
const JSONPatchMediaType = "application/json-patch+json"

// FHIR serves the FHIR R4 REST API over the tenant store that middleware
// resolved for the caller.
type FHIR struct {
	Log *slog.Logger
}

// Metadata answers the CapabilityStatement.
func (h *FHIR) Metadata(c echo.Context) error {
	return c.Blob(http.StatusOK, FHIRMediaType, capabilityStatement())
}

// Read answers GET /{type}/{id}, or 304 when the client's copy is current.
func (h *FHIR) Read(c echo.Context, sc models.Scope) error {
	r, err := sc.Store().ReadResource(ctx(c), c.Param("type"), c.Param("id"))
	if err != nil {
		return notFoundAs(err, c)
	}
	return writeRead(c, r)
}

// VRead answers GET /{type}/{id}/_history/{vid}, or 304 as Read does.
func (h *FHIR) VRead(c echo.Context, sc models.Scope) error {
	r, err := sc.Store().ReadResourceVersion(ctx(c), c.Param("type"), c.Param("id"), c.Param("vid"))
	if err != nil {
		return notFoundAs(err, c)
	}
	return writeRead(c, r)
}

// writeRead answers a read: 304 Not Modified without a body when the
// request's If-None-Match names the version read or, without it,
// If-Modified-Since is not older than its lastUpdated (to the second, the
// precision of HTTP dates); else the resource.
func writeRead(c echo.Context, r resources.Resource) error {
	if r.VersionID == "" {
		// Shared definitions carry no version to compare.
		return writeResource(c, http.StatusOK, r)
	}
	req := c.Request().Header
	fresh := false
	if tags := req.Values("If-None-Match"); len(tags) > 0 {
		for _, tag := range strings.Split(strings.Join(tags, ","), ",") {
			if tag = strings.TrimSpace(tag); tag == "*" || etagVersion(tag) == r.VersionID {
				fresh = true
			}
		}
	} else if since, err := http.ParseTime(req.Get("If-Modified-Since")); err == nil {
		fresh = !r.LastUpdated.Truncate(time.Second).After(since)
	}
	if !fresh {
		return writeResource(c, http.StatusOK, r)
	}
	versionHeaders(c, r)
	return c.NoContent(http.StatusNotModified)
}

// Create answers POST /{type}, conditionally when If-None-Exist is sent.
func (h *FHIR) Create(c echo.Context, sc models.Scope) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	typ := c.Param("type")
	cond := c.Request().Header.Get("If-None-Exist")
	if cond == "" {
		r, err := sc.Store().CreateResource(ctx(c), typ, body)
		if err != nil {
			return err
		}
		return writeWritten(c, r, true)
	}
	criteria, err := url.ParseQuery(cond[strings.Index(cond, "?")+1:])
	if err != nil {
		return &resources.QueryError{Message: "If-None-Exist is not a valid search query"}
	}
	r, created, err := sc.Store().CreateResourceIfNoneExist(ctx(c), typ, body, criteria)
	if err != nil {
		return err
	}
	return writeWritten(c, r, created)
}

// Update answers PUT /{type}/{id}, version-aware when If-Match is sent. An
// id the project does not use yet is created with that id (201).
func (h *FHIR) Update(c echo.Context, sc models.Scope) error {
	body, version, err := writeRequest(c)
	if err != nil {
		return err
	}
	r, created, err := sc.Store().PutResource(ctx(c), c.Param("type"), c.Param("id"), body, version)
	if err != nil {
		return notFoundAs(err, c)
	}
	return writeWritten(c, r, created)
}

// ConditionalUpdate answers PUT /{type}?criteria: the one match is updated,
// no match creates the resource (201), several are 412.
func (h *FHIR) ConditionalUpdate(c echo.Context, sc models.Scope) error {
	body, version, err := writeRequest(c)
	if err != nil {
		return err
	}
	r, created, err := sc.Store().UpdateResourceWhere(ctx(c), c.Param("type"), body, c.QueryParams(), version)
	if err != nil {
		return err
	}
	return writeWritten(c, r, created)
}

// Patch answers PATCH /{type}/{id} with a JSON Patch body, version-aware
// when If-Match is sent.
func (h *FHIR) Patch(c echo.Context, sc models.Scope) error {
	body, version, err := patchRequest(c)
	if err != nil {
		return err
	}
	r, err := sc.Store().PatchResource(ctx(c), c.Param("type"), c.Param("id"), body, version)
	if err != nil {
		return notFoundAs(err, c)
	}
	return writeWritten(c, r, false)
}

// ConditionalPatch answers PATCH /{type}?criteria: the JSON Patch applies
// to the one resource the criteria match (none: 404; several: 412).
func (h *FHIR) ConditionalPatch(c echo.Context, sc models.Scope) error {
	body, version, err := patchRequest(c)
	if err != nil {
		return err
	}
	r, err := sc.Store().PatchResourceWhere(ctx(c), c.Param("type"), body, c.QueryParams(), version)
	if errors.Is(err, kit.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No "+c.Param("type")+" matches the criteria: nothing was patched")
	}
	if err != nil {
		return err
	}
	return writeWritten(c, r, false)
}

// patchRequest reads a PATCH's JSON Patch and the version its If-Match
// asks for. Like the other writes' JSON, no cross-site form can send its
// type.
func patchRequest(c echo.Context) (body []byte, version string, err error) {
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != JSONPatchMediaType {
		return nil, "", echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"Send a JSON Patch (RFC 6902) as "+JSONPatchMediaType+"; FHIRPath Patch is not supported")
	}
	return writeRequest(c)
}

// writeRequest reads a write's body and the version its If-Match asks for.
func writeRequest(c echo.Context) (body []byte, version string, err error) {
	if body, err = io.ReadAll(c.Request().Body); err != nil {
		return nil, "", err
	}
	version, err = ifMatch(c)
	return body, version, err
}

// ifMatch reads the version an If-Match header asks for ("" without one).
func ifMatch(c echo.Context) (string, error) {
	v, ok := c.Request().Header["If-Match"]
	if !ok {
		return "", nil
	}
	version := etagVersion(strings.Join(v, ","))
	if _, err := strconv.Atoi(version); err != nil {
		return "", &resources.QueryError{Message: `If-Match must be a version ETag such as W/"3"`}
	}
	return version, nil
}

// etagVersion reads the version out of W/"3" or "3". Anything else can
// never match, so it becomes a version no resource has.
func etagVersion(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	v, err := strconv.Unquote(tag)
	if err != nil || v == "" {
		return "invalid"
	}
	return v
}

// Delete answers DELETE /{type}/{id}.
func (h *FHIR) Delete(c echo.Context, sc models.Scope) error {
	if err := sc.Store().DeleteResource(ctx(c), c.Param("type"), c.Param("id")); err != nil {
		return notFoundAs(err, c)
	}
	return writeOutcome(c, http.StatusOK, outcome("information", "informational", "", "Deleted "+c.Param("type")+"/"+c.Param("id")))
}

// ConditionalDelete answers DELETE /{type}?criteria: the one match is
// deleted, no match deletes nothing (200 all the same, as FHIR asks), several
// are 412: Enclave deletes one resource at a time.
func (h *FHIR) ConditionalDelete(c echo.Context, sc models.Scope) error {
	typ := c.Param("type")
	id, err := sc.Store().DeleteResourceWhere(ctx(c), typ, c.QueryParams())
	if err != nil {
		return err
	}
	if id == "" {
		return writeOutcome(c, http.StatusOK, outcome("information", "not-found", "", "No "+typ+" matches the criteria; nothing was deleted"))
	}
	return writeOutcome(c, http.StatusOK, outcome("information", "informational", "", "Deleted "+typ+"/"+id))
}

// Search answers GET /{type}?params with a searchset Bundle.
func (h *FHIR) Search(c echo.Context, sc models.Scope) error {
	return h.search(c, sc, c.QueryParams())
}

// SearchPost answers POST /{type}/_search: the parameters of a form body
// (application/x-www-form-urlencoded) and of the query, together.
func (h *FHIR) SearchPost(c echo.Context, sc models.Scope) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationForm {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send the search parameters as "+echo.MIMEApplicationForm)
	}
	if err := c.Request().ParseForm(); err != nil {
		return &resources.QueryError{Message: "The form body is not a valid query: " + err.Error()}
	}
	return h.search(c, sc, c.Request().Form)
}

func (h *FHIR) search(c echo.Context, sc models.Scope, params url.Values) error {
	typ := c.Param("type")
	q, err := resources.ParseSearch(typ, params, lenient(c))
	if err != nil {
		return err
	}
	res, err := sc.Store().Search(ctx(c), q)
	if err != nil {
		return err
	}
	return writeSearchset(c, paths.FHIRType.URL(typ), q.Params, q.Count, q.Offset, res)
}

// Compartment answers GET /Patient/{id}/{type}: a search of the type
// limited to the resources in that Patient's compartment. A Patient the
// caller cannot read is not found.
func (h *FHIR) Compartment(c echo.Context, sc models.Scope) error {
	target := c.Param("target")
	if strings.Contains(target, "/") || strings.HasPrefix(target, "$") {
		// The router gives the last parameter what is left of a longer
		// path, or an operation Enclave does not have.
		return echo.ErrNotFound
	}
	if _, err := sc.Store().ReadResource(ctx(c), c.Param("type"), c.Param("id")); err != nil {
		return notFoundAs(err, c)
	}
	q, err := resources.ParseSearch(target, c.QueryParams(), lenient(c))
	if err != nil {
		return err
	}
	if err := q.InCompartment(c.Param("type"), c.Param("id")); err != nil {
		return err
	}
	res, err := sc.Store().Search(ctx(c), q)
	if err != nil {
		return err
	}
	return writeSearchset(c, paths.FHIRCompartment.URL(c.Param("type"), c.Param("id"), target), q.Params, q.Count, q.Offset, res)
}

// SystemSearch answers GET /fhir/R4?_type=A,B&...: a search of several
// types at once.
func (h *FHIR) SystemSearch(c echo.Context, sc models.Scope) error {
	q, err := resources.ParseCrossSearch(c.QueryParams(), lenient(c))
	if err != nil {
		return err
	}
	res, err := sc.Store().SearchAcross(ctx(c), q)
	if err != nil {
		return err
	}
	return writeSearchset(c, paths.FHIRBase, q.Params, q.Count, q.Offset, res)
}

// writeSearchset answers a searchset Bundle: the matches, then what
// _include and _revinclude added.
func writeSearchset(c echo.Context, self string, params url.Values, count, offset int, res resources.SearchResult) error {
	b := bundle{ResourceType: "Bundle", Type: "searchset"}
	if res.Counted {
		b.Total = &res.Total
	}
	b.Link = pageLinks(c, Origin(c)+self, params, count, offset, res.More)
	b.Entry = searchsetEntries(c, res)
	return writeJSON(c, http.StatusOK, b)
}

// searchsetEntries are the entries of a searchset Bundle: the matches,
// then what _include and _revinclude added.
func searchsetEntries(c echo.Context, res resources.SearchResult) []bundleEntry {
	out := make([]bundleEntry, 0, len(res.Resources)+len(res.Included))
	add := func(mode string, rs []resources.Resource) {
		for _, r := range rs {
			out = append(out, bundleEntry{FullURL: Origin(c) + paths.FHIRResource.URL(r.Type, r.ID),
				Resource: r.JSON, Search: &entrySearch{Mode: mode}})
		}
	}
	add("match", res.Resources)
	add("include", res.Included)
	return out
}

// History answers GET /{type}/{id}/_history.
func (h *FHIR) History(c echo.Context, sc models.Scope) error { return h.history(c, sc, c.Param("id")) }

// TypeHistory answers GET /{type}/_history.
func (h *FHIR) TypeHistory(c echo.Context, sc models.Scope) error { return h.history(c, sc, "") }

// SystemHistory answers GET /fhir/R4/_history: every resource's versions.
func (h *FHIR) SystemHistory(c echo.Context, sc models.Scope) error {
	page, params, err := historyPage(c.QueryParams())
	if err != nil {
		return err
	}
	res, err := sc.Store().ProjectHistory(ctx(c), page)
	if err != nil {
		return err
	}
	return writeHistory(c, paths.FHIRSystemHistory.URL(), params, page, res)
}

func (h *FHIR) history(c echo.Context, sc models.Scope, id string) error {
	typ := c.Param("type")
	page, params, err := historyPage(c.QueryParams())
	if err != nil {
		return err
	}
	res, err := sc.Store().ResourceHistory(ctx(c), typ, id, page)
	if err != nil {
		return notFoundAs(err, c)
	}
	self := paths.FHIRTypeHistory.URL(typ)
	if id != "" {
		self = paths.FHIRHistory.URL(typ, id)
	}
	return writeHistory(c, self, params, page, res)
}

// writeHistory answers a history Bundle.
func writeHistory(c echo.Context, self string, params url.Values, page resources.Page, res resources.History) error {
	b := bundle{ResourceType: "Bundle", Type: "history", Total: &res.Total}
	b.Link = pageLinks(c, Origin(c)+self, params, page.Count, page.Offset, page.Offset+page.Count < res.Total)
	for i, r := range res.Versions {
		e := bundleEntry{FullURL: Origin(c) + paths.FHIRResource.URL(r.Type, r.ID),
			Request:  &entryRequest{Method: http.MethodPut, URL: r.Type + "/" + r.ID},
			Response: &entryResponse{Status: "200 OK", Etag: etag(r), LastModified: r.LastUpdated.Format(time.RFC3339Nano)}}
		switch {
		case r.Deleted:
			e.Request.Method, e.Response.Status = http.MethodDelete, "204 No Content"
		case r.VersionID == "1":
			e.Request = &entryRequest{Method: http.MethodPost, URL: r.Type}
			e.Response.Status = "201 Created"
			fallthrough
		default:
			e.Resource = res.Versions[i].JSON
		}
		b.Entry = append(b.Entry, e)
	}
	return writeJSON(c, http.StatusOK, b)
}

// historyPage reads _count and _offset, the only parameters history takes.
func historyPage(q url.Values) (resources.Page, url.Values, error) {
	p := resources.Page{Count: resources.DefaultSearchCount}
	for key, values := range q {
		n, err := strconv.Atoi(values[len(values)-1])
		switch {
		case key != "_count" && key != "_offset":
			return p, nil, &resources.QueryError{Message: fmt.Sprintf("History does not support the parameter %q", key)}
		case err != nil || n < 0:
			return p, nil, &resources.QueryError{Message: key + " must be a whole number of 0 or more"}
		case key == "_count":
			p.Count = min(n, resources.MaxSearchCount)
		default:
			p.Offset = n
		}
	}
	return p, url.Values{}, nil
}

func lenient(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Prefer"), "handling=lenient")
}

// notFoundAs names the missing resource in not-found answers.
func notFoundAs(err error, c echo.Context) error {
	if errors.Is(err, kit.ErrNotFound) {
		return &fhirNotFound{what: c.Param("type") + "/" + c.Param("id")}
	}
	return err
}

type fhirNotFound struct{ what string }

func (e *fhirNotFound) Error() string { return "Resource " + e.what + " not found" }
func (e *fhirNotFound) Unwrap() error { return kit.ErrNotFound }

// baseURL is the absolute FHIR base of this request, for links.
func baseURL(c echo.Context) string {
	return Origin(c) + paths.FHIRBase
}

func pageLinks(c echo.Context, self string, params url.Values, count, offset int, more bool) []bundleLink {
	link := func(rel string, off int) bundleLink {
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set("_count", strconv.Itoa(count))
		q.Set("_offset", strconv.Itoa(off))
		return bundleLink{Relation: rel, URL: self + "?" + q.Encode()}
	}
	out := []bundleLink{link("self", offset)}
	if count > 0 && more {
		out = append(out, link("next", offset+count))
	}
	if offset > 0 && count > 0 {
		out = append(out, link("previous", max(0, offset-count)))
	}
	return out
}

func etag(r resources.Resource) string { return `W/"` + r.VersionID + `"` }

// versionHeaders are the ETag and Last-Modified of a resource version.
func versionHeaders(c echo.Context, r resources.Resource) {
	h := c.Response().Header()
	if r.VersionID != "" {
		h.Set("ETag", etag(r))
		h.Set("Last-Modified", r.LastUpdated.UTC().Format(http.TimeFormat))
	}
}

func writeResource(c echo.Context, status int, r resources.Resource) error {
	versionHeaders(c, r)
	return c.Blob(status, FHIRMediaType, r.JSON)
}

// writeWritten answers a write: 201 with a Location when it created the
// resource, else 200, with the body Prefer: return= asks for: the resource
// (representation, the default), none (minimal) or an OperationOutcome.
func writeWritten(c echo.Context, r resources.Resource, created bool) error {
	status, done := http.StatusOK, "Updated"
	if created {
		status, done = http.StatusCreated, "Created"
		c.Response().Header().Set("Location", Origin(c)+paths.FHIRVersion.URL(r.Type, r.ID, r.VersionID))
	}
	switch preferredReturn(c) {
	case "minimal":
		versionHeaders(c, r)
		return c.NoContent(status)
	case "OperationOutcome":
		versionHeaders(c, r)
		return writeOutcome(c, status, outcome("information", "informational", "",
			fmt.Sprintf("%s %s/%s, now at version %s", done, r.Type, r.ID, r.VersionID)))
	}
	return writeResource(c, status, r)
}

// preferredReturn is the return= preference of the Prefer headers, if any.
func preferredReturn(c echo.Context) string {
	for _, v := range c.Request().Header.Values("Prefer") {
		for _, pref := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
			if val, ok := strings.CutPrefix(strings.TrimSpace(pref), "return="); ok {
				return strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	}
	return ""
}

func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, FHIRMediaType, b)
}

type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Total        *int          `json:"total,omitempty"`
	Link         []bundleLink  `json:"link,omitempty"`
	Entry        []bundleEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type bundleEntry struct {
	FullURL  string          `json:"fullUrl,omitempty"`
	Resource json.RawMessage `json:"resource,omitempty"`
	Search   *entrySearch    `json:"search,omitempty"`
	Request  *entryRequest   `json:"request,omitempty"`
	Response *entryResponse  `json:"response,omitempty"`
}

type entrySearch struct {
	Mode string `json:"mode"`
}

type entryRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

type entryResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}
