package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"enclave/models"
	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/resources"
	"enclave/views/paths"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The FHIR operations of every member: $validate, Patient/$everything,
// ValueSet/$expand and CodeSystem/$lookup. Their parameters come from the
// query or, for POST, a Parameters body (see operationParams).

// Validate answers POST /{type}/$validate and /{type}/{id}/$validate: 200
// with an OperationOutcome listing what the write the mode names (create,
// update, delete, or a write as it stands) would be refused for, "All OK"
// when nothing. Nothing is written.
func (h *FHIR) Validate(c echo.Context, sc models.Scope) error {
	typ, id := c.Param("type"), c.Param("id")
	params, resource, err := operationParams(c, typ)
	if err != nil {
		return err
	}
	mode := params.Get("mode")
	if !slices.Contains([]string{resources.ValidateAny, resources.ValidateCreate, resources.ValidateUpdate, resources.ValidateDelete}, mode) {
		return opError("mode", "mode must be create, update or delete")
	}
	for name := range params {
		if name != "mode" && name != "profile" && !ignoredOpParams[name] {
			return opError(name, "$validate takes the parameters resource, mode and profile, not "+strconv.Quote(name))
		}
	}
	if resource == nil && mode != resources.ValidateDelete {
		return opError("resource", "Send the resource to validate as the body, or as the parameter resource of a Parameters body")
	}
	issues, err := sc.Store().ValidateResource(ctx(c), typ, id, resource, mode)
	if err != nil {
		return err
	}
	oo := operationOutcome{ResourceType: "OperationOutcome"}
	for _, is := range issues {
		oo.Issue = append(oo.Issue, issueOf(is))
	}
	if params.Get("profile") != "" {
		oo.Issue = append(oo.Issue, outcome("warning", "not-supported", "",
			"Validation against a profile is not supported: the resource was checked against the base R4 definition").Issue...)
	}
	if len(oo.Issue) == 0 {
		oo = outcome("information", "informational", "", "All OK")
	}
	return writeOutcome(c, http.StatusOK, oo)
}

// Everything answers Patient/{id}/$everything (GET, or POST with a
// Parameters body): a searchset Bundle of the patient's record, paged with
// _count and _offset, narrowed by _type and _since.
func (h *FHIR) Everything(c echo.Context, sc models.Scope) error {
	id := c.Param("id")
	params, _, err := operationParams(c, "")
	if err != nil {
		return err
	}
	q := resources.EverythingQuery{PatientID: id, Count: resources.DefaultSearchCount}
	links := url.Values{}
	for name, values := range params {
		v := values[len(values)-1]
		switch name {
		case "_count", "_offset":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return opError(name, name+" must be a whole number of 0 or more")
			}
			if name == "_count" {
				q.Count = min(n, resources.MaxSearchCount)
			} else {
				q.Offset = n
			}
			continue
		case "_since":
			if q.Since, err = parseInstant(v); err != nil {
				return opError(name, "_since must be an instant such as 2024-05-01T00:00:00Z")
			}
		case "_type":
			for _, typ := range values {
				for t := range strings.SplitSeq(typ, ",") {
					if !fhir.IsResourceType(t) {
						return opError(name, "_type names "+strconv.Quote(t)+", which is not a resource type")
					}
					q.Types = append(q.Types, t)
				}
			}
		default:
			if !ignoredOpParams[name] {
				return opError(name, "$everything takes _count, _offset, _since and _type, not "+strconv.Quote(name))
			}
			continue
		}
		links[name] = values
	}
	res, err := sc.Store().PatientEverything(ctx(c), q)
	if errors.Is(err, kit.ErrNotFound) {
		return &fhirNotFound{what: "Patient/" + id}
	}
	if err != nil {
		return err
	}
	b := bundle{ResourceType: "Bundle", Type: "searchset", Total: &res.Total}
	b.Link = pageLinks(c, Origin(c)+paths.FHIRPatientEverything.URL(id), links, q.Count, q.Offset, q.Offset+q.Count < res.Total)
	for i, r := range res.Resources {
		mode := "match"
		if res.Included[i] {
			mode = "include" // referenced by the record, not in the compartment
		}
		b.Entry = append(b.Entry, bundleEntry{FullURL: Origin(c) + paths.FHIRResource.URL(r.Type, r.ID),
			Resource: r.JSON, Search: &entrySearch{Mode: mode}})
	}
	return writeJSON(c, http.StatusOK, b)
}

// maxExpansion bounds the codes of one $expand answer: past it, the
// expansion's total and offset tell the client to page with count.
const maxExpansion = 1000

// Expand answers ValueSet/$expand?url=… and ValueSet/{id}/$expand over the
// shared definitions: the ValueSet with an expansion of its codes, those
// matching filter, count of them from offset on.
func (h *FHIR) Expand(c echo.Context, _ models.Scope) error {
	q := c.QueryParams()
	for name := range q {
		if !slices.Contains([]string{"url", "valueSetVersion", "filter", "count", "offset"}, name) && !ignoredOpParams[name] {
			return opError(name, "$expand takes url, valueSetVersion, filter, count and offset, not "+strconv.Quote(name))
		}
	}
	offset, count := 0, maxExpansion
	for name, n := range map[string]*int{"offset": &offset, "count": &count} {
		if v := q.Get(name); v != "" {
			var err error
			if *n, err = strconv.Atoi(v); err != nil || *n < 0 {
				return opError(name, name+" must be a whole number of 0 or more")
			}
		}
	}
	id := c.Param("id")
	if id == "" {
		canonical := q.Get("url")
		if canonical == "" {
			return opError("url", "Name the ValueSet to expand with the parameter url")
		}
		if v := q.Get("valueSetVersion"); v != "" && !strings.Contains(canonical, "|") {
			canonical += "|" + v
		}
		var err error
		if id, err = fhir.ValueSetID(canonical); err != nil {
			return err
		}
	}
	count = min(count, maxExpansion)
	exp, err := fhir.ExpandValueSet(id, q.Get("filter"), offset, count)
	if err != nil {
		return err
	}
	raw, _ := fhir.SystemResource("ValueSet", id)
	var vs map[string]any
	if err := json.Unmarshal(raw, &vs); err != nil {
		return err
	}
	type contains struct {
		System  string `json:"system,omitempty"`
		Version string `json:"version,omitempty"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	list := make([]contains, 0, len(exp.Contains))
	for _, cn := range exp.Contains {
		list = append(list, contains{cn.System, cn.Version, cn.Code, cn.Display})
	}
	expansion := map[string]any{"identifier": "urn:uuid:" + uuid.NewString(), "timestamp": time.Now().UTC().Format(time.RFC3339),
		"total": exp.Total, "offset": offset, "contains": list}
	var used []map[string]any
	if f := q.Get("filter"); f != "" {
		used = append(used, map[string]any{"name": "filter", "valueString": f})
	}
	used = append(used, map[string]any{"name": "offset", "valueInteger": offset}, map[string]any{"name": "count", "valueInteger": count})
	expansion["parameter"] = used
	vs["expansion"] = expansion
	return writeJSON(c, http.StatusOK, vs)
}

// Lookup answers CodeSystem/$lookup?system=…&code=… over the shared
// definitions: a Parameters resource with the code system's name and
// version and the code's display and designations.
func (h *FHIR) Lookup(c echo.Context, _ models.Scope) error {
	q := c.QueryParams()
	for name := range q {
		if !slices.Contains([]string{"system", "code", "version"}, name) && !ignoredOpParams[name] {
			return opError(name, "$lookup takes system, code and version, not "+strconv.Quote(name))
		}
	}
	system, code := q.Get("system"), q.Get("code")
	switch {
	case system == "":
		return opError("system", "Name the code system with the parameter system")
	case code == "":
		return opError("code", "Name the code to look up with the parameter code")
	}
	if v := q.Get("version"); v != "" && !strings.Contains(system, "|") {
		system += "|" + v
	}
	l, err := fhir.LookupCode(system, code)
	if err != nil {
		return err
	}
	type part map[string]any
	out := []part{{"name": "name", "valueString": l.Name}}
	if l.Version != "" {
		out = append(out, part{"name": "version", "valueString": l.Version})
	}
	if l.Display != "" {
		out = append(out, part{"name": "display", "valueString": l.Display})
	}
	for _, d := range l.Designations {
		parts := []part{{"name": "value", "valueString": d.Value}}
		if d.Language != "" {
			parts = append(parts, part{"name": "language", "valueCode": d.Language})
		}
		if d.Use != nil {
			parts = append(parts, part{"name": "use", "valueCoding": d.Use})
		}
		out = append(out, part{"name": "designation", "part": parts})
	}
	return writeJSON(c, http.StatusOK, map[string]any{"resourceType": "Parameters", "parameter": out})
}

// ignoredOpParams are accepted by every operation and change nothing: the
// format is always JSON.
var ignoredOpParams = map[string]bool{"_format": true, "_pretty": true}

// opError refuses an operation's parameter with a 400 naming it.
func opError(param, message string) error {
	return &resources.QueryError{Message: message + " (parameter " + param + ")"}
}

// parseInstant reads a FHIR instant, or a date (its start, in UTC).
func parseInstant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

// operationParams reads an operation's parameters: the query's, and for
// POST those of the body. A body that is a Parameters resource gives its
// parameters, each value as text, and its parameter "resource"; another
// JSON object is itself the resource (when resourceType, the type the
// operation works on, is not Parameters). An empty body gives none.
func operationParams(c echo.Context, resourceType string) (url.Values, []byte, error) {
	params := url.Values{}
	for k, v := range c.QueryParams() {
		params[k] = append([]string(nil), v...)
	}
	if c.Request().Method != http.MethodPost {
		return params, nil, nil
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return params, nil, nil
	}
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	if json.Unmarshal(body, &head) != nil || head.ResourceType != "Parameters" || resourceType == "Parameters" {
		if resourceType == "" {
			return nil, nil, opError("body", "The body must be a FHIR Parameters resource")
		}
		// Not Parameters: the resource itself, which validation judges.
		return params, body, nil
	}
	var p struct {
		Parameter []map[string]json.RawMessage `json:"parameter"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, nil, opError("body", "The Parameters resource is malformed: parameter must be a list of objects")
	}
	var resource []byte
	for _, prm := range p.Parameter {
		var name string
		if json.Unmarshal(prm["name"], &name) != nil || name == "" {
			return nil, nil, opError("body", "Every parameter of the Parameters resource needs a name")
		}
		if r, ok := prm["resource"]; ok && name == "resource" {
			resource = r
			continue
		}
		value, ok := primitiveValue(prm)
		if !ok {
			return nil, nil, opError(name, "The parameter needs one value[x] of a primitive type")
		}
		params.Add(name, value)
	}
	return params, resource, nil
}

// primitiveValue is the text of a parameter's value[x], if it has one
// primitive value.
func primitiveValue(prm map[string]json.RawMessage) (string, bool) {
	for k, raw := range prm {
		if !strings.HasPrefix(k, "value") {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		switch v := v.(type) {
		case string:
			return v, true
		case float64, bool:
			return strings.TrimSpace(string(raw)), true
		}
	}
	return "", false
}
