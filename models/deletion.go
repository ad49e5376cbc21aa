package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/projectops"
	"enclave/models/projects"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Deleting a project (issue 11) is soft first: DeleteProject marks it, and
// from that moment it is gone for every member (the caller's resolution
// joins no deleted project, GORM reads of Project skip it, API clients get
// no token); ExpungeDeleted removes it for good once the operator's
// retention has passed, and until then a super admin can RestoreProject.

// DefaultDeletedRetention is how long a deleted project waits for its
// expunge when ENCLAVE_DELETED_RETENTION does not say.
const DefaultDeletedRetention = 7 * 24 * time.Hour

// RetentionActor is who the operator's log names for an expunge that the
// retention made, not a person.
const RetentionActor = "server (deleted-project retention)"

// ErrLastSuperAdminProject refuses to delete the only live super-admin
// project: the server would be left without operators.
var ErrLastSuperAdminProject = fmt.Errorf("%w: this is the only super-admin project, so deleting it would leave the server without operators; make another project a super-admin one first", kit.ErrConflict)

// confirmProject checks that typed is the project's name.
func confirmProject(p projects.Project, typed string) error {
	if kit.NormalizeName(typed) != p.Name {
		return &kit.ValidationError{Fields: map[string]string{"confirm": "To confirm, type the project's name exactly: " + kit.Quote(p.Name) + "."}}
	}
	return nil
}

// DeleteProject deletes the store's project for a, once confirm is its
// name: it disappears for every member at once and is expunged after the
// retention. Recorded in the project's audit log and the operator's. The
// last live super-admin project is ErrLastSuperAdminProject.
func (t Tenant) DeleteProject(ctx context.Context, a audit.Actor, confirm string) (projects.Project, error) {
	var p projects.Project
	err := t.inTx(ctx, func(tx Tenant) error {
		if err := tx.bound().LockProject(ctx); err != nil {
			return kit.NotFound(err)
		}
		var err error
		if p, err = tx.Project(ctx); err != nil {
			return err
		}
		if err := confirmProject(p, confirm); err != nil {
			return err
		}
		only, err := projectops.OnlySuperAdmin(ctx, tx.db, p)
		if err != nil {
			return err
		}
		if only {
			return ErrLastSuperAdminProject
		}
		var by *string
		if a.UserID != "" {
			by = &a.UserID
		}
		now := kit.Now()
		res := tx.db.WithContext(ctx).Model(&projects.Project{}).Where("id = ?", p.ID).
			Updates(map[string]any{"deleted_at": now, "deleted_by": by})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return kit.ErrNotFound
		}
		p.DeletedAt, p.DeletedBy = gorm.DeletedAt{Time: now, Valid: true}, by
		details := map[string]any{"name": p.Name}
		if err := audit.Record(ctx, tx.bound(), a, audit.ActionProjectDeleted, p.Name, details); err != nil {
			return err
		}
		return audit.RecordOperator(ctx, tx.db, a, audit.ActionProjectDeleted, "Project/"+p.ID, details)
	})
	return p, err
}

// DeletedProject is a deleted project as the dashboard lists it.
type DeletedProject struct {
	Project projects.Project
	// DeletedByEmail is the email of who deleted it; empty when that
	// account is gone.
	DeletedByEmail string
}

// DeletedProjects lists the deleted projects waiting for their expunge,
// the longest waiting first.
func (s System) DeletedProjects(ctx context.Context) ([]DeletedProject, error) {
	var ps []projects.Project
	if err := s.db.WithContext(ctx).Unscoped().Where("deleted_at IS NOT NULL").Order("deleted_at, id").
		Find(&ps).Error; err != nil {
		return nil, err
	}
	var ids []string
	for _, p := range ps {
		if p.DeletedBy != nil {
			ids = append(ids, *p.DeletedBy)
		}
	}
	emails := map[string]string{}
	if len(ids) > 0 {
		var rows []struct{ ID, Email string }
		if err := s.db.WithContext(ctx).Table("users").Select("id, email").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			emails[r.ID] = r.Email
		}
	}
	out := make([]DeletedProject, len(ps))
	for i, p := range ps {
		out[i] = DeletedProject{Project: p}
		if p.DeletedBy != nil {
			out[i].DeletedByEmail = emails[*p.DeletedBy]
		}
	}
	return out, nil
}

// deletedProject loads a deleted project under a row lock (on PostgreSQL):
// kit.ErrNotFound when there is no such project or it is not deleted.
func deletedProject(ctx context.Context, tx *gorm.DB, projectID string) (projects.Project, error) {
	var p projects.Project
	if !kit.IsUUID(projectID) {
		return p, kit.ErrNotFound
	}
	q := tx.WithContext(ctx).Unscoped()
	if kit.DialectOf(tx) == kit.Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	err := q.Where("id = ? AND deleted_at IS NOT NULL", projectID).Take(&p).Error
	return p, kit.NotFound(err)
}

// RestoreProject brings a deleted project back for every member, once
// confirm is its name; a super admin's act (the caller checks that a is
// one). Recorded in the project's audit log and the operator's. A project
// that is not deleted (or is already expunged) is kit.ErrNotFound.
func (s System) RestoreProject(ctx context.Context, a audit.Actor, projectID, confirm string) (projects.Project, error) {
	var p projects.Project
	defer kit.BumpAuthEpoch()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if p, err = deletedProject(ctx, tx, projectID); err != nil {
			return err
		}
		if err := confirmProject(p, confirm); err != nil {
			return err
		}
		if err := tx.Unscoped().Model(&projects.Project{}).Where("id = ?", p.ID).
			Updates(map[string]any{"deleted_at": nil, "deleted_by": nil}).Error; err != nil {
			return err
		}
		details := map[string]any{"name": p.Name, "deletedAt": p.DeletedAt.Time.UTC().Format(time.RFC3339)}
		if err := audit.Record(ctx, kit.Bind(tx, p.ID), a, audit.ActionProjectRestored, p.Name, details); err != nil {
			return err
		}
		return audit.RecordOperator(ctx, tx, a, audit.ActionProjectRestored, "Project/"+p.ID, details)
	})
	if err != nil {
		return projects.Project{}, err
	}
	p.DeletedAt, p.DeletedBy = gorm.DeletedAt{}, nil
	return p, nil
}

// ExpungeDeleted expunges (projectops.ExpungeDeleted) every project deleted
// longer than retention before now, each in its own transaction, and
// returns those it expunged. The operator's log names RetentionActor. A
// project restored meanwhile is left alone; a failure on one project is
// returned after the others have been tried.
func (s System) ExpungeDeleted(ctx context.Context, retention time.Duration, now time.Time) ([]projectops.ExpungeResult, error) {
	cutoff := now.Add(-retention)
	var ids []string
	if err := s.db.WithContext(ctx).Unscoped().Model(&projects.Project{}).
		Where("deleted_at IS NOT NULL AND deleted_at < ?", cutoff).Order("deleted_at, id").Pluck("id", &ids).Error; err != nil {
		return nil, err
	}
	var out []projectops.ExpungeResult
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			break
		}
		r, err := projectops.ExpungeDeleted(ctx, s.db, audit.Actor{Email: RetentionActor}, id, cutoff)
		switch {
		case errors.Is(err, projectops.ErrNotDue), errors.Is(err, kit.ErrNotFound):
		case err != nil:
			errs = append(errs, fmt.Errorf("expunge %s: %w", id, err))
		default:
			out = append(out, r)
		}
	}
	return out, errors.Join(errs...)
}
