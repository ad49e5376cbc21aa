package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/kit"
	"slices"
)

// ProjectFeatures are the feature codes of Medplum's Project resource (the
// required ValueSet project-feature). Only super admins may change them.
var ProjectFeatures = []string{
	"ai", "aws-comprehend", "aws-textract", "bots", "cron", "email", "google-auth-required",
	"graphql-introspection", "websocket-subscriptions", "transaction-bundles", "validate-terminology",
}

// SettingsUpdate is a settings form as submitted. Features and SuperAdmin
// are nil when the form did not carry them (project admins' forms do not).
type SettingsUpdate struct {
	Name                       string
	Description                string
	StrictMode                 bool
	ConfirmStrictOff           bool
	CheckReferencesOnWrite     bool
	DefaultPatientAccessPolicy *string
	Features                   *[]string
	SuperAdmin                 *bool
	// ConfirmName must be the project's current name for a change of
	// SuperAdmin to be saved.
	ConfirmName string
	// Version is the project version the form was rendered from.
	Version int
}

// SettingsChange is one field that a save changed, for the notice and the
// audit log.
type SettingsChange struct {
	Field  string
	Before any
	After  any
}

// UpdateSettings saves the project's settings if nobody saved since
// u.Version, and returns the changed fields. superAdmin says whether the
// actor may change features and the superAdmin flag; a form from anyone else
// that tries is refused with ErrForbidden.
func (t Tenant) UpdateSettings(ctx context.Context, a Actor, u SettingsUpdate, superAdmin bool) (Project, []SettingsChange, error) {
	var saved Project
	var changes []SettingsChange
	err := t.inTx(ctx, func(tx Tenant) error {
		cur, err := tx.projectAt(ctx, u.Version)
		if err != nil {
			return err
		}
		next, err := tx.applySettings(ctx, cur, u, superAdmin)
		if err != nil {
			return err
		}
		changes = diffSettings(cur, next)
		if len(changes) == 0 {
			saved = cur
			return nil
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = kit.Now()
		res := tx.db.WithContext(ctx).Model(&Project{}).Where("id = ? AND version = ?", tx.projectID, u.Version).
			Select("name", "description", "strict_mode", "check_references_on_write", "default_patient_access_policy",
				"features", "super_admin", "version", "updated_at").
			Updates(&next)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrStale
		}
		details := map[string]Change{}
		for _, c := range changes {
			details[c.Field] = Change{Before: c.Before, After: c.After}
		}
		if err := audit.Record(ctx, tx.bound(), a, ActionSettingsUpdated, tx.projectID, details); err != nil {
			return err
		}
		saved = next
		return nil
	})
	return saved, changes, err
}

// projectAt is the project as of version: the row the store carries from
// the caller's resolution when it is that version (every write to a project
// moves its version, so the two are the same), else the row read now. A
// save checks the version again as it writes.
func (t Tenant) projectAt(ctx context.Context, version int) (Project, error) {
	if t.project != nil && t.project.Version == version {
		return *t.project, nil
	}
	return t.Project(ctx)
}

// applySettings validates u against the current project and returns the
// project as it would be saved.
func (t Tenant) applySettings(ctx context.Context, cur Project, u SettingsUpdate, superAdmin bool) (Project, error) {
	v := &ValidationError{}
	next := cur
	next.Name, next.Description = checkNameAndDescription(v, "name", u.Name, u.Description)
	next.StrictMode = u.StrictMode
	if cur.StrictMode && !u.StrictMode && !u.ConfirmStrictOff {
		v.Add("strictMode", "Turning strict mode off stops validating resources against their FHIR definitions: "+
			"unknown elements, malformed values and missing required fields will be stored as sent. Confirm to turn it off.")
	}
	next.CheckReferencesOnWrite = u.CheckReferencesOnWrite
	next.DefaultPatientAccessPolicy = nil
	if u.DefaultPatientAccessPolicy != nil && *u.DefaultPatientAccessPolicy != "" {
		if _, err := t.AccessPolicy(ctx, *u.DefaultPatientAccessPolicy); err != nil {
			v.Add("defaultPatientAccessPolicy", "Choose one of this project's access policies, or none.")
		} else {
			id := *u.DefaultPatientAccessPolicy
			next.DefaultPatientAccessPolicy = &id
		}
	}
	if u.Features != nil {
		var fs []string
		for _, f := range *u.Features {
			if !slices.Contains(ProjectFeatures, f) {
				v.Add("features", "Unknown feature "+quote(f)+".")
				continue
			}
			if !slices.Contains(fs, f) {
				fs = append(fs, f)
			}
		}
		slices.Sort(fs)
		next.Features = StringList(fs)
	}
	if u.SuperAdmin != nil {
		next.SuperAdmin = *u.SuperAdmin
	}
	if !superAdmin && (!sameSet(cur.Features, next.Features) || cur.SuperAdmin != next.SuperAdmin) {
		return cur, ErrForbidden
	}
	if cur.SuperAdmin != next.SuperAdmin && NormalizeName(u.ConfirmName) != cur.Name {
		v.Add("superAdmin", "Changing who runs this server is serious: type this project's name, "+quote(cur.Name)+", to confirm.")
	}
	return next, v.Err()
}

func diffSettings(a, b Project) []SettingsChange {
	var out []SettingsChange
	add := func(field string, before, after any, same bool) {
		if !same {
			out = append(out, SettingsChange{Field: field, Before: before, After: after})
		}
	}
	add("name", a.Name, b.Name, a.Name == b.Name)
	add("description", a.Description, b.Description, a.Description == b.Description)
	add("strictMode", a.StrictMode, b.StrictMode, a.StrictMode == b.StrictMode)
	add("checkReferencesOnWrite", a.CheckReferencesOnWrite, b.CheckReferencesOnWrite, a.CheckReferencesOnWrite == b.CheckReferencesOnWrite)
	add("defaultPatientAccessPolicy", deref(a.DefaultPatientAccessPolicy), deref(b.DefaultPatientAccessPolicy),
		deref(a.DefaultPatientAccessPolicy) == deref(b.DefaultPatientAccessPolicy))
	add("features", []string(a.Features), []string(b.Features), sameSet(a.Features, b.Features))
	add("superAdmin", a.SuperAdmin, b.SuperAdmin, a.SuperAdmin == b.SuperAdmin)
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func quote(s string) string { return "\u201c" + s + "\u201d" }

// IsSuperAdmin reports whether userID is a server operator: an active
// admin, under no access policy, of a project whose superAdmin flag is set.
// Plain members of that project are not, so that the power cannot spread
// to whoever an admin invites.
func (s System) IsSuperAdmin(ctx context.Context, userID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("project_memberships AS m").
		Joins("JOIN projects AS p ON p.id = m.project_id").
		Where("m.user_id = ? AND m.active = ? AND m.admin = ? AND m.access_policy_id IS NULL AND p.super_admin = ?", userID, true, true, true).
		Count(&n).Error
	return n > 0, err
}

// SuperAdminAmong reports whether the user whose active memberships these
// are (all of them: ProjectsOf's list, or a Caller resolved for
// AllProjects) is a server operator, by IsSuperAdmin's rule, without asking
// the database again.
func SuperAdminAmong(projects []ProjectAccess) bool {
	for _, a := range projects {
		m := a.Membership
		if a.Project.SuperAdmin && m.Active && m.Admin && m.AccessPolicyID == nil {
			return true
		}
	}
	return false
}

// SetSuperAdmin marks a project as the super-admin project (or not). It is a
// server operator's act, outside any project admin's reach: used to bootstrap
// the first super admin and by tests.
func (s System) SetSuperAdmin(ctx context.Context, projectID string, on bool) error {
	defer kit.BumpAuthEpoch()
	res := s.db.WithContext(ctx).Model(&Project{}).Where("id = ?", projectID).
		Updates(map[string]any{"super_admin": on, "version": gormExpr("version + 1"), "updated_at": kit.Now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
