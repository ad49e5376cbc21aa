package resources

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"enclave/models/audit"
	"enclave/models/fhir"
	"enclave/models/kit"

	"github.com/google/uuid"
)

// AccessPolicy is a named set of resource rules, assignable to members and
// as a project's default patient policy. It is tenant data.
type AccessPolicy struct {
	ID        string
	ProjectID string
	Name      string
	Rules     PolicyRules
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PolicyInput is an access policy as an editor submits it.
type PolicyInput struct {
	Name  string
	Rules []PolicyRule
}

// MaxPolicyRules bounds the rules of one policy.
const MaxPolicyRules = 100

// maxPolicyName bounds a policy's name, in characters.
const maxPolicyName = 200

var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$`)

// Validate trims the input and checks every rule; errors are keyed "name"
// and "rules.N" (N counts from 0).
func (in *PolicyInput) Validate() error {
	v := &kit.ValidationError{}
	in.Name = kit.CheckName(v, "name", "Policy name", in.Name, maxPolicyName)
	if len(in.Rules) > MaxPolicyRules {
		v.Add("rules", fmt.Sprintf("A policy can have at most %d rules.", MaxPolicyRules))
	}
	for i := range in.Rules {
		r := &in.Rules[i]
		key := fmt.Sprintf("rules.%d", i)
		r.ResourceType = strings.TrimSpace(r.ResourceType)
		r.Criteria = strings.TrimSpace(r.Criteria)
		var hidden []string
		for _, f := range r.HiddenFields {
			if f = strings.TrimSpace(f); f != "" {
				hidden = append(hidden, f)
			}
		}
		r.HiddenFields = hidden
		switch {
		case r.ResourceType == "":
			v.Add(key, "Resource type is required.")
		case r.ResourceType != "*" && !fhir.IsResourceType(r.ResourceType):
			v.Add(key, kit.Quote(r.ResourceType)+" is not a FHIR R4 resource type.")
		case r.Criteria != "" && r.ResourceType == "*":
			v.Add(key, "A rule for every type (*) cannot have criteria: a search is of one type.")
		case r.Criteria != "" && !strings.HasPrefix(r.Criteria, r.ResourceType+"?"):
			v.Add(key, "Criteria must be a search on the same type, like "+r.ResourceType+"?name=Smith.")
		case len(r.Criteria) > 1000:
			v.Add(key, "Criteria must be at most 1000 characters.")
		default:
			if msg := checkCriteria(r.ResourceType, r.Criteria); msg != "" {
				v.Add(key, msg)
			}
		}
		for _, f := range r.HiddenFields {
			if !fieldName.MatchString(f) {
				v.Add(key, "Hidden field "+kit.Quote(f)+" is not an element name like birthDate or name.given.")
			}
		}
	}
	return v.Err()
}

// checkCriteria explains what is wrong with a rule's criteria ("" when
// nothing): a variable that is not one of knownVars, or a search the store
// could not run, as tried with a sample profile in place of the variables.
func checkCriteria(resourceType, criteria string) string {
	if criteria == "" {
		return ""
	}
	if v := unknownVar(criteria); v != "" {
		return "Criteria can use %patient and %profile (and their .id), not " + v + "."
	}
	bound, _ := bindVars(criteria, "Patient/"+uuid.Nil.String())
	_, query, _ := strings.Cut(bound, "?")
	values, err := url.ParseQuery(query)
	if err == nil {
		_, err = ParseSearch(resourceType, values, false)
	}
	if err != nil {
		return "Criteria cannot be searched: " + err.Error() + "."
	}
	return ""
}

// AccessPolicies lists the project's policies by name.
func (t Store) AccessPolicies(ctx context.Context) ([]AccessPolicy, error) {
	var out []AccessPolicy
	err := t.scoped(ctx).Order("name, id").Find(&out).Error
	return out, err
}

// AccessPolicy loads one of the project's policies; another project's id is
// kit.ErrNotFound.
func (t Store) AccessPolicy(ctx context.Context, id string) (AccessPolicy, error) {
	var p AccessPolicy
	err := t.scoped(ctx).Where("id = ?", id).Take(&p).Error
	return p, kit.NotFound(err)
}

const policyNameTaken = "Another access policy of this project has this name."

// CreateAccessPolicy validates and stores a new policy.
func (t Store) CreateAccessPolicy(ctx context.Context, a audit.Actor, in PolicyInput) (AccessPolicy, error) {
	if err := in.Validate(); err != nil {
		return AccessPolicy{}, err
	}
	ts := kit.Now()
	p := AccessPolicy{ID: uuid.NewString(), ProjectID: t.projectID, Name: in.Name, Rules: in.Rules, CreatedAt: ts, UpdatedAt: ts}
	err := t.inTx(ctx, func(tx Store) error {
		if err := tx.bound().CheckNameFree(ctx, &AccessPolicy{}, p.Name, "", policyNameTaken); err != nil {
			return err
		}
		if err := tx.db.WithContext(ctx).Create(&p).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return &kit.ValidationError{Fields: map[string]string{"name": policyNameTaken}}
			}
			return err
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionPolicyCreated, p.Name, map[string]any{"id": p.ID, "rules": p.Rules})
	})
	return p, err
}

// UpdateAccessPolicy replaces a policy's name and rules.
func (t Store) UpdateAccessPolicy(ctx context.Context, a audit.Actor, id string, in PolicyInput) (AccessPolicy, error) {
	if err := in.Validate(); err != nil {
		return AccessPolicy{}, err
	}
	var p AccessPolicy
	err := t.inTx(ctx, func(tx Store) error {
		before, err := tx.AccessPolicy(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.bound().CheckNameFree(ctx, &AccessPolicy{}, in.Name, id, policyNameTaken); err != nil {
			return err
		}
		p = before
		p.Name, p.Rules, p.UpdatedAt = in.Name, in.Rules, kit.Now()
		if err := tx.scoped(ctx).Model(&AccessPolicy{}).Where("id = ?", id).
			Updates(map[string]any{"name": p.Name, "rules": p.Rules, "updated_at": p.UpdatedAt}).Error; err != nil {
			if kit.IsUniqueViolation(err) {
				return &kit.ValidationError{Fields: map[string]string{"name": policyNameTaken}}
			}
			return err
		}
		return audit.Record(ctx, tx.bound(), a, audit.ActionPolicyUpdated, p.Name, map[string]any{"id": id,
			"name": audit.Change{Before: before.Name, After: p.Name}, "rules": audit.Change{Before: before.Rules, After: p.Rules}})
	})
	return p, err
}

// CheckPolicyChoice refuses an access policy id that is not one of the
// project's, with a message on the "accessPolicy" field; "" (no policy) is
// fine. Members, invitations and API clients choose policies this way.
func (t Store) CheckPolicyChoice(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	if kit.IsUUID(id) {
		if _, err := t.AccessPolicy(ctx, id); !errors.Is(err, kit.ErrNotFound) {
			return err
		}
	}
	return &kit.ValidationError{Fields: map[string]string{"accessPolicy": "Choose one of this project's access policies."}}
}
