package models

import (
	"context"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projects"
)

// UpdateSettings saves the project's settings if nobody saved since
// u.Version, and returns the changed fields. superAdmin says whether the
// actor may change features and the superAdmin flag; a form from anyone else
// that tries is refused with ErrForbidden.
func (t Tenant) UpdateSettings(ctx context.Context, a audit.Actor, u projects.SettingsUpdate, superAdmin bool) (projects.Project, []projects.SettingsChange, error) {
	var saved projects.Project
	var changes []projects.SettingsChange
	err := t.inTx(ctx, func(tx Tenant) error {
		cur, err := tx.projectAt(ctx, u.Version)
		if err != nil {
			return err
		}
		next, err := projects.ApplySettings(cur, u, superAdmin, func(id string) bool {
			_, err := tx.AccessPolicy(ctx, id)
			return err == nil
		})
		if err != nil {
			return err
		}
		changes = projects.DiffSettings(cur, next)
		if len(changes) == 0 {
			saved = cur
			return nil
		}
		next.Version = cur.Version + 1
		next.UpdatedAt = kit.Now()
		res := tx.db.WithContext(ctx).Model(&projects.Project{}).Where("id = ? AND version = ?", tx.projectID, u.Version).
			Select("name", "description", "strict_mode", "check_references_on_write", "default_patient_access_policy",
				"features", "super_admin", "version", "updated_at").
			Updates(&next)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kit.ErrStale
		}
		details := map[string]audit.Change{}
		for _, c := range changes {
			details[c.Field] = audit.Change{Before: c.Before, After: c.After}
		}
		if err := audit.Record(ctx, tx.bound(), a, audit.ActionSettingsUpdated, tx.projectID, details); err != nil {
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
func (t Tenant) projectAt(ctx context.Context, version int) (projects.Project, error) {
	if t.project != nil && t.project.Version == version {
		return *t.project, nil
	}
	return t.Project(ctx)
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
