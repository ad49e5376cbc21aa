package resources

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"enclave/models/fhir"
	"enclave/models/kit"

	"gorm.io/gorm"
)

// The modes of FHIR's $validate: which write the resource is checked for.
const (
	ValidateAny    = ""       // a write of the resource, as it stands
	ValidateCreate = "create" // a create: the id is ignored
	ValidateUpdate = "update" // an update of the id (the URL's or the body's)
	ValidateDelete = "delete" // a delete of the id: no body
)

// ValidateResource checks, without writing anything, whether the write mode
// names would be accepted: body is decoded and validated as that write
// decodes it (under the project's strict mode), its references checked when
// the project checks references on write, and the store's access policy
// consulted. It returns every problem found as an issue (none when the write
// would pass); an error means the check itself could not run (an unknown
// type, a missing id).
func (t Store) ValidateResource(ctx context.Context, resourceType, id string, body []byte, mode string) ([]fhir.Issue, error) {
	if err := checkType(resourceType); err != nil {
		return nil, err
	}
	var issues []fhir.Issue
	refuse := func(code string, err error) {
		issues = append(issues, fhir.Issue{Severity: "error", Code: code,
			Message: strings.TrimPrefix(err.Error(), kit.ErrForbidden.Error()+": ")})
	}
	if err := t.mayWrite(resourceType); err != nil {
		refuse("forbidden", err)
	}
	if mode == ValidateDelete {
		if id == "" {
			return nil, badQuery("Validating a delete needs the id: call %s/{id}/$validate", resourceType)
		}
		if len(issues) > 0 {
			return issues, nil
		}
		if _, err := t.ReadResource(ctx, resourceType, id); err != nil {
			if !errors.Is(err, kit.ErrNotFound) && !errors.Is(err, ErrGone) {
				return nil, err
			}
			issues = append(issues, fhir.Issue{Severity: "error", Code: "not-found", Expression: resourceType + ".id",
				Message: "There is no " + resourceType + "/" + id + " to delete"})
		}
		if err := t.checkProfileWrite(ctx, resourceType, id); errors.Is(err, kit.ErrForbidden) {
			refuse("forbidden", err)
		} else if err != nil {
			return nil, err
		}
		return issues, nil
	}
	set, err := t.settings(ctx)
	if err != nil {
		return nil, err
	}
	res, err := decodeResource(resourceType, body, set.strict, mode == ValidateCreate)
	var rerr *ResourceError
	if errors.As(err, &rerr) {
		return append(issues, rerr.Issues...), nil
	}
	if err != nil {
		return nil, err
	}
	bodyID, _ := res["id"].(string)
	switch {
	case mode == ValidateUpdate && id == "" && bodyID == "":
		issues = append(issues, fhir.Issue{Severity: "error", Code: "required", Expression: resourceType + ".id",
			Message: "An update needs the resource's id"})
	case id != "" && mode != ValidateCreate && bodyID != id:
		issues = append(issues, fhir.Issue{Severity: "error", Code: "invalid", Expression: resourceType + ".id",
			Message: fmt.Sprintf("The resource id %q must match the id in the URL %q", bodyID, id)})
	case bodyID != "" && mode != ValidateCreate:
		if err := checkID(resourceType, bodyID); errors.As(err, &rerr) {
			issues = append(issues, rerr.Issues...)
		}
	}
	if target := cmp.Or(id, bodyID); target != "" && mode != ValidateCreate {
		if err := t.checkProfileWrite(ctx, resourceType, target); errors.Is(err, kit.ErrForbidden) {
			refuse("forbidden", err)
		} else if err != nil {
			return nil, err
		}
	}
	if err := checkIndexSize(indexRows(res)); errors.As(err, &rerr) {
		issues = append(issues, rerr.Issues...)
	}
	if set.checkRefs {
		err := t.tenantTx(ctx, false, func(tx *gorm.DB) error { return checkReferences(tx, t.projectID, res) })
		if errors.As(err, &rerr) {
			issues = append(issues, rerr.Issues...)
		} else if err != nil {
			return nil, err
		}
	}
	return capIssues(issues), nil
}
