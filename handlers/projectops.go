package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projectops"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"

	"github.com/labstack/echo/v4"
)

// ProjectOps serves the super admins' FHIR operations on whole projects:
// Project/{id}/$clone and Project/{id}/$expunge. Anyone else gets 403.
type ProjectOps struct {
	Sys ProjectOperators
	// Box opens and seals the secrets a clone copies; nil when the server
	// has no valid key (a project with secrets then cannot be cloned).
	Box *secrets.Box
}

// Clone answers POST /Project/{id}/$clone: 201 with the new Project.
func (h *ProjectOps) Clone(c echo.Context) error {
	a, err := h.superAdmin(c, "clone")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	in, err := cloneParams(body)
	if err != nil {
		return err
	}
	in.SourceID, in.Actor = c.Param("id"), a
	res, err := h.Sys.CloneProject(ctx(c), h.Box, in)
	if err != nil {
		return projectOpError(c, err)
	}
	return writeJSON(c, http.StatusCreated, projectResource(res.Project))
}

// Expunge answers POST /Project/{id}/$expunge?everything=true: 200 with an
// OperationOutcome once the project and everything of it are gone.
func (h *ProjectOps) Expunge(c echo.Context) error {
	a, err := h.superAdmin(c, "expunge")
	if err != nil {
		return err
	}
	if c.QueryParam("everything") != "true" {
		return writeOutcome(c, http.StatusBadRequest, outcome("error", "invalid", "everything",
			"Expunging a project deletes everything of it: say so with ?everything=true"))
	}
	res, err := h.Sys.ExpungeProject(ctx(c), a, c.Param("id"))
	if err != nil {
		return projectOpError(c, err)
	}
	return writeOutcome(c, http.StatusOK, outcome("information", "informational", "",
		fmt.Sprintf("Project %s (%s) expunged with its %d resources and everything else of it", res.Project.ID, res.Project.Name, res.Resources)))
}

// superAdmin returns the caller as the operator's log records them, or
// refuses with 403 a caller who is not a super admin (API clients never
// are).
func (h *ProjectOps) superAdmin(c echo.Context, op string) (audit.Actor, error) {
	if u, ok := apiUser(c); ok {
		super, err := h.Sys.IsSuperAdmin(ctx(c), u.ID)
		if err != nil {
			return audit.Actor{}, err
		}
		if super {
			return audit.Actor{UserID: u.ID, Email: u.Email, IP: c.RealIP()}, nil
		}
	}
	return audit.Actor{}, fmt.Errorf("%w: only super admins may %s projects", kit.ErrForbidden, op)
}

// projectOpError answers a refused operation: bad parameters with 400 and
// the parameter's name, a missing project with 404.
func projectOpError(c echo.Context, err error) error {
	if fields := kit.FieldErrors(err); fields != nil {
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		oo := operationOutcome{ResourceType: "OperationOutcome"}
		for _, k := range names {
			oo.Issue = append(oo.Issue, outcomeIssue{Severity: "error", Code: "invalid", Details: &outcomeDetails{Text: fields[k]},
				Expression: []string{k}})
		}
		return writeOutcome(c, http.StatusBadRequest, oo)
	}
	if errors.Is(err, kit.ErrNotFound) {
		return &fhirNotFound{what: "Project/" + c.Param("id")}
	}
	return err
}

// cloneParams reads a $clone body: a FHIR Parameters resource, or (as
// Medplum takes it) a plain JSON object, with name, resourceTypes,
// includeIds, excludeIds and memberships. An empty body asks for defaults.
func cloneParams(body []byte) (projectops.CloneInput, error) {
	var in projectops.CloneInput
	if len(bytes.TrimSpace(body)) == 0 {
		return in, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return in, badParams("The body must be a FHIR Parameters resource (or a JSON object of parameters)")
	}
	if rt, ok := raw["resourceType"]; ok {
		var typ string
		if json.Unmarshal(rt, &typ) != nil || typ != "Parameters" {
			return in, badParams("The body must be a FHIR Parameters resource")
		}
		var p struct {
			Parameter []struct {
				Name         string  `json:"name"`
				ValueString  *string `json:"valueString"`
				ValueCode    *string `json:"valueCode"`
				ValueID      *string `json:"valueId"`
				ValueBoolean *bool   `json:"valueBoolean"`
			} `json:"parameter"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			return in, badParams("The Parameters resource is malformed: each parameter has a name and a value")
		}
		for _, prm := range p.Parameter {
			s := firstString(prm.ValueString, prm.ValueCode, prm.ValueID)
			switch {
			case prm.Name == "memberships" && prm.ValueBoolean != nil:
				in.Memberships = *prm.ValueBoolean
			case prm.Name == "name" && s != nil:
				in.Name = *s
			case prm.Name == "resourceTypes" && s != nil:
				in.ResourceTypes = append(in.ResourceTypes, splitList(*s)...)
			case prm.Name == "includeIds" && s != nil:
				in.IncludeIDs = append(in.IncludeIDs, splitList(*s)...)
			case prm.Name == "excludeIds" && s != nil:
				in.ExcludeIDs = append(in.ExcludeIDs, splitList(*s)...)
			default:
				return in, badParams(fmt.Sprintf("Unknown parameter %q, or a value of the wrong type: $clone takes name, resourceTypes, includeIds, excludeIds (strings) and memberships (boolean)", prm.Name))
			}
		}
		return in, nil
	}
	var plain struct {
		Name          string   `json:"name"`
		ResourceTypes []string `json:"resourceTypes"`
		IncludeIDs    []string `json:"includeIds"`
		ExcludeIDs    []string `json:"excludeIds"`
		Memberships   bool     `json:"memberships"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&plain); err != nil {
		return in, badParams("Unknown parameter or a value of the wrong type: $clone takes name (string), resourceTypes, includeIds, excludeIds (arrays of strings) and memberships (boolean)")
	}
	return projectops.CloneInput{Name: plain.Name, ResourceTypes: plain.ResourceTypes, IncludeIDs: plain.IncludeIDs,
		ExcludeIDs: plain.ExcludeIDs, Memberships: plain.Memberships}, nil
}

func firstString(vs ...*string) *string {
	for _, v := range vs {
		if v != nil {
			return v
		}
	}
	return nil
}

// splitList reads a parameter that may be repeated or comma-separated.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func badParams(msg string) error { return &resources.QueryError{Message: msg} }

// projectResource is the Project as a FHIR-style resource, as Medplum
// answers it.
func projectResource(p projects.Project) map[string]any {
	out := map[string]any{"resourceType": "Project", "id": p.ID, "name": p.Name, "strictMode": p.StrictMode,
		"checkReferencesOnWrite": p.CheckReferencesOnWrite, "superAdmin": p.SuperAdmin,
		"features": append([]string{}, p.Features...),
		"meta":     map[string]any{"versionId": fmt.Sprint(p.Version), "lastUpdated": p.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000Z")}}
	if p.Description != "" {
		out["description"] = p.Description
	}
	if p.OwnerID != nil {
		out["owner"] = map[string]any{"reference": "User/" + *p.OwnerID}
	}
	if p.DefaultPatientAccessPolicy != nil {
		out["defaultPatientAccessPolicy"] = map[string]any{"reference": "AccessPolicy/" + *p.DefaultPatientAccessPolicy}
	}
	return out
}
