package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"enclave/models/kit"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"gorm.io/gorm"
)

// ErrUnprocessable means a well-formed request cannot be applied to the
// resource as it is, such as a JSON Patch whose test fails or whose path
// does not exist. Errors wrapping it carry a message safe to show.
var ErrUnprocessable = errors.New("cannot be applied")

// maxPatchCopyBytes bounds what the copy operations of one patch may add,
// so that a short patch cannot copy a resource into itself until memory
// runs out.
const maxPatchCopyBytes = 8 << 20

// serverOwned are the JSON Pointers a patch may not change: the resource's
// identity and the meta elements the server sets. The rest of meta (tags,
// profiles, security labels) is the client's.
var serverOwned = []string{"/id", "/resourceType", "/meta/versionId", "/meta/lastUpdated", "/meta/project"}

// decodePatch reads a JSON Patch (RFC 6902) document and refuses one that
// would change what the server owns. A malformed patch is a *QueryError.
func decodePatch(doc []byte) (jsonpatch.Patch, error) {
	p, err := jsonpatch.DecodePatch(doc)
	if err != nil {
		return nil, badQuery("The body is not a valid JSON Patch: send a JSON array of operations, each with \"op\" (add, remove, replace, move, copy or test) and \"path\" (%s)", patchProblem(err))
	}
	for i, op := range p {
		var pointers []string
		switch op.Kind() {
		case "test", "copy":
			// They read their source; copy writes only its path.
		case "move":
			from, _ := op.From()
			pointers = append(pointers, from)
		}
		if op.Kind() != "test" {
			path, _ := op.Path()
			pointers = append(pointers, path)
		}
		for _, ptr := range pointers {
			if owned := serverOwnedAt(ptr); owned != "" {
				return nil, badQuery("Operation %d (%s %s) would change %s, which the server sets: a patch may change any other element", i, op.Kind(), ptr, owned)
			}
		}
	}
	return p, nil
}

// serverOwnedAt names the server-owned element that pointer ptr reaches into or
// replaces whole ("" when none).
func serverOwnedAt(ptr string) string {
	switch ptr {
	case "":
		return "the whole resource"
	case "/meta":
		return "meta (change its elements one by one)"
	}
	for _, o := range serverOwned {
		if ptr == o || strings.HasPrefix(ptr, o+"/") {
			return strings.TrimPrefix(o, "/")
		}
	}
	return ""
}

// patchProblem says briefly what is wrong with a patch document, without
// echoing it.
func patchProblem(err error) string {
	switch {
	case errors.Is(err, jsonpatch.ErrInvalid):
		return "it is not valid JSON"
	case strings.Contains(err.Error(), "unsupported operation"):
		return "an operation has an unknown op"
	case errors.Is(err, jsonpatch.ErrMissing):
		return "an operation lacks its path or from"
	case strings.Contains(err.Error(), "'value'"), strings.Contains(err.Error(), "'path'"), strings.Contains(err.Error(), "'from'"):
		return "an operation's value, path or from cannot be read"
	}
	return "it is not an array of operation objects"
}

// PatchResource applies a JSON Patch (RFC 6902) to the current version of a
// resource as the member sees it, and stores the result as the next version,
// validated like any update (a refusal is a *ResourceError). A malformed
// patch, or one that changes the id, resourceType or the server's meta, is a
// *QueryError; one that cannot be applied (a failing test, a missing path)
// wraps ErrUnprocessable. ifMatch is as for UpdateResource. Fields the
// policy hides are kept as they were.
func (t Store) PatchResource(ctx context.Context, resourceType, id string, patch []byte, ifMatch string) (Resource, error) {
	ops, err := decodePatch(patch)
	if err != nil {
		return Resource{}, err
	}
	return t.patch(ctx, resourceType, id, ops, ifMatch)
}

// PatchResourceWhere is a conditional patch: the patch applies, as
// PatchResource's does, to the one live resource the criteria match. None
// matching is kit.ErrNotFound; several wrap ErrPreconditionFailed.
func (t Store) PatchResourceWhere(ctx context.Context, resourceType string, patch []byte, criteria url.Values, ifMatch string) (Resource, error) {
	ops, err := decodePatch(patch)
	if err != nil {
		return Resource{}, err
	}
	if err := t.mayWrite(resourceType); err != nil {
		return Resource{}, err
	}
	cond, err := t.condition(resourceType, criteria)
	if err != nil {
		return Resource{}, err
	}
	set, err := t.settings(ctx)
	if err != nil {
		return Resource{}, err
	}
	var out Resource
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		match, found, err := t.matchOne(tx, cond, "search")
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: no %s matches the criteria", kit.ErrNotFound, resourceType)
		}
		// The profile rule reads the memberships outside the tenant's
		// transaction, as every write's does.
		if err := t.checkProfileWrite(ctx, resourceType, match.ID); err != nil {
			return err
		}
		out, err = t.patchIn(tx, resourceType, match.ID, ops, set, ifMatch)
		return err
	})
	return out, err
}

// patch is PatchResource once the patch is read.
func (t Store) patch(ctx context.Context, resourceType, id string, ops jsonpatch.Patch, ifMatch string) (Resource, error) {
	if err := t.mayWrite(resourceType); err != nil {
		return Resource{}, err
	}
	set, err := t.settings(ctx)
	if err != nil {
		return Resource{}, err
	}
	if err := t.checkProfileWrite(ctx, resourceType, id); err != nil {
		return Resource{}, err
	}
	var out Resource
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		out, err = t.patchIn(tx, resourceType, id, ops, set, ifMatch)
		return err
	})
	return out, err
}

// patchIn applies ops to the live resourceType/id inside tx and stores the
// result as its next version.
func (t Store) patchIn(tx *gorm.DB, resourceType, id string, ops jsonpatch.Patch, set settings, ifMatch string) (Resource, error) {
	cur, err := currentVersion(tx, t.projectID, resourceType, id)
	if err != nil {
		return Resource{}, err
	}
	if err := t.checkMayChange(tx, resourceType, id); err != nil {
		return Resource{}, err
	}
	var content string
	if err := tx.Raw(`SELECT content FROM resources WHERE project_id = ? AND resource_type = ? AND id = ?`,
		t.projectID, resourceType, id).Scan(&content).Error; err != nil {
		return Resource{}, err
	}
	seen, err := t.redact(Resource{Type: resourceType, ID: id, JSON: []byte(content)})
	if err != nil {
		return Resource{}, err
	}
	opts := jsonpatch.NewApplyOptions()
	opts.SupportNegativeIndices = false
	opts.AccumulatedCopySizeLimit = maxPatchCopyBytes
	patched, err := ops.ApplyWithOptions(seen.JSON, opts)
	if err != nil {
		return Resource{}, fmt.Errorf("%w: the patch cannot be applied to %s/%s as it is: %s", ErrUnprocessable, resourceType, id, applyProblem(err))
	}
	res, err := decodeResource(resourceType, patched, set.strict, false)
	if err != nil {
		return Resource{}, err
	}
	if ifMatch == "" {
		// The version read above is the one patched.
		ifMatch = fmt.Sprint(cur)
	}
	out, _, err := t.put(tx, resourceType, id, res, set, ifMatch, mustExist)
	return out, err
}

// applyProblem says why a patch could not be applied.
func applyProblem(err error) string {
	var size *jsonpatch.AccumulatedCopySizeError
	switch {
	case errors.Is(err, jsonpatch.ErrTestFailed):
		return "a test operation failed"
	case errors.As(err, &size):
		return "its copy operations add too much"
	case errors.Is(err, jsonpatch.ErrMissing), errors.Is(err, jsonpatch.ErrUnknownType):
		return "a path does not exist"
	case errors.Is(err, jsonpatch.ErrInvalidIndex):
		return "an array index is out of range"
	}
	return "a path does not fit the resource"
}
