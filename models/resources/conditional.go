package resources

import (
	"context"
	"fmt"
	"net/url"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// FHIR's conditional interactions name their target by search criteria
// instead of an id: create (If-None-Exist), update (PUT [type]?criteria) and
// delete (DELETE [type]?criteria). The criteria are a search like any other,
// narrowed by the member's access policy, so a condition can neither match
// nor count what the member may not see.

// condition parses criteria into the search that decides a conditional
// interaction. It asks for two results: one more than any condition needs
// to tell "one match" from "several".
func (t Store) condition(resourceType string, criteria url.Values) (SearchQuery, error) {
	q, err := ParseSearch(resourceType, criteria, false)
	if err != nil {
		return SearchQuery{}, err
	}
	if len(q.filters) == 0 {
		return SearchQuery{}, badQuery("A conditional request needs search criteria that select %s resources, such as identifier=system|value", resourceType)
	}
	// A hidden field cannot be probed through the condition either, nor
	// through its chains and _has.
	if err := t.checkHiddenSearch(q); err != nil {
		return SearchQuery{}, err
	}
	if err := t.limitChains(&q); err != nil {
		return SearchQuery{}, err
	}
	q.Count, q.Offset = 2, 0
	// A member's policy narrows what the condition can match, as it
	// narrows any search.
	if err := t.limitBy(&q, false); err != nil {
		return SearchQuery{}, err
	}
	return q, nil
}

// matchOne runs a condition inside tx: the one live resource it matches
// (found), none, or an error wrapping ErrPreconditionFailed when it matches
// several. header names where the criteria came from, for that error.
func (t Store) matchOne(tx *gorm.DB, cond SearchQuery, header string) (r Resource, found bool, err error) {
	res, err := t.search(tx, cond)
	if err != nil {
		return Resource{}, false, err
	}
	switch len(res.Resources) {
	case 0:
		return Resource{}, false, nil
	case 1:
		r, err = t.redact(res.Resources[0])
		return r, err == nil, err
	}
	return Resource{}, false, fmt.Errorf("%w: the %s criteria match more than one resource", ErrPreconditionFailed, header)
}

// UpdateResourceWhere is FHIR's conditional update. When the criteria match
// one resource, body is its next version (body's id, if any, must be that
// resource's); when they match none, body is created, with its own id if it
// has one (a live resource already holding that id is kit.ErrConflict);
// when they match several the error wraps ErrPreconditionFailed. ifMatch
// applies to the matched resource. created tells which happened.
func (t Store) UpdateResourceWhere(ctx context.Context, resourceType string, body []byte, criteria url.Values, ifMatch string) (r Resource, created bool, err error) {
	if err := t.mayWrite(resourceType); err != nil {
		return Resource{}, false, err
	}
	cond, err := t.condition(resourceType, criteria)
	if err != nil {
		return Resource{}, false, err
	}
	res, set, err := t.decodeUpdate(ctx, resourceType, body)
	if err != nil {
		return Resource{}, false, err
	}
	bodyID, _ := res["id"].(string)
	if _, has := res["id"]; has {
		if err := checkID(resourceType, bodyID); err != nil {
			return Resource{}, false, err
		}
	}
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		match, found, err := t.matchOne(tx, cond, "search")
		if err != nil {
			return err
		}
		id, mode := bodyID, mustBeNew
		switch {
		case found && bodyID != "" && bodyID != match.ID:
			return invalidResource("invalid", resourceType+".id",
				"The resource id %q is not the id of the resource the criteria match (%s)", bodyID, match.ID)
		case found:
			id, mode = match.ID, mustExist
		case id == "":
			id = uuid.NewString()
		}
		// The profile rule reads the memberships outside the tenant's
		// transaction, as every write's does.
		if err := t.checkProfileWrite(ctx, resourceType, id); err != nil {
			return err
		}
		r, created, err = t.put(tx, resourceType, id, res, set, ifMatch, mode)
		return err
	})
	if err != nil {
		return Resource{}, false, err
	}
	return r, created, nil
}

// DeleteResourceWhere is FHIR's conditional delete, of one resource at a
// time: it deletes the one live resource the criteria match and returns its
// id; none matching is no error, and an empty id; several wrap
// ErrPreconditionFailed.
func (t Store) DeleteResourceWhere(ctx context.Context, resourceType string, criteria url.Values) (id string, err error) {
	if err := t.mayWrite(resourceType); err != nil {
		return "", err
	}
	cond, err := t.condition(resourceType, criteria)
	if err != nil {
		return "", err
	}
	err = t.tenantTx(ctx, true, func(tx *gorm.DB) error {
		match, found, err := t.matchOne(tx, cond, "search")
		if err != nil || !found {
			return err
		}
		if err := t.checkProfileWrite(ctx, resourceType, match.ID); err != nil {
			return err
		}
		id = match.ID
		return t.deleteIn(tx, resourceType, id)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}
