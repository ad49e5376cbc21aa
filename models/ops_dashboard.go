package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"enclave/models/audit"
	"enclave/models/fhir"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projectops"
	"enclave/models/projects"

	"gorm.io/gorm"
)

// The dashboard's acts on whole projects (issue 11): what its clone form
// offers, the expunge confirmed by the project's name, and the global audit
// log. Like the rest of the dashboard they cross project boundaries; web
// lets only super admins reach them.

// TypeCount is how many live resources of one type a project holds.
type TypeCount struct {
	Type string
	N    int64
}

// ProjectContents is a project with what it holds: its live resources by
// type (the types a clone can copy, shared system types left out) and its
// active members.
type ProjectContents struct {
	Project projects.Project
	Types   []TypeCount
	Members int64
}

// Resources is how many live resources the project holds in all.
func (pc ProjectContents) Resources() int64 {
	var n int64
	for _, t := range pc.Types {
		n += t.N
	}
	return n
}

// operatorProject reads project projectID as the operator sees it: also
// when its admin deleted it and it waits for its expunge. A missing project
// is kit.ErrNotFound.
func (s System) operatorProject(ctx context.Context, projectID string) (projects.Project, error) {
	var p projects.Project
	if !kit.IsUUID(projectID) {
		return p, kit.ErrNotFound
	}
	err := s.db.WithContext(ctx).Unscoped().Where("id = ?", projectID).Take(&p).Error
	return p, kit.NotFound(err)
}

// ContentsOf loads project projectID with what it holds (one grouped query
// for the resources), a deleted one too (Project.DeletedAt says so). A
// missing project is kit.ErrNotFound.
func (s System) ContentsOf(ctx context.Context, projectID string) (ProjectContents, error) {
	var out ProjectContents
	p, err := s.operatorProject(ctx, projectID)
	if err != nil {
		return out, err
	}
	out.Project = p
	db := s.db.WithContext(ctx)
	if err := db.Model(&members.ProjectMembership{}).Where("project_id = ? AND active = ?", p.ID, true).
		Count(&out.Members).Error; err != nil {
		return out, err
	}
	var rows []TypeCount
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := readAllResources(tx); err != nil {
			return err
		}
		return tx.Raw(`SELECT resource_type AS type, COUNT(*) AS n FROM resources WHERE project_id = ? AND NOT deleted
			GROUP BY resource_type ORDER BY resource_type`, p.ID).Scan(&rows).Error
	})
	for _, r := range rows {
		if !fhir.IsSystemType(r.Type) {
			out.Types = append(out.Types, r)
		}
	}
	return out, err
}

// ExpungeConfirmed expunges project projectID (see projectops.Expunge) once
// confirm is its name, typed.
func (s System) ExpungeConfirmed(ctx context.Context, a audit.Actor, projectID, confirm string) (projectops.ExpungeResult, error) {
	p, err := s.operatorProject(ctx, projectID)
	if err != nil {
		return projectops.ExpungeResult{}, err
	}
	if err := confirmProject(p, confirm); err != nil {
		return projectops.ExpungeResult{Project: p}, err
	}
	return projectops.Expunge(ctx, s.db, a, projectID)
}

// Expunged is the operator's log's line of the expunge of projectID, for
// the notice the dashboard shows after it; ok is false when there is none.
func (s System) Expunged(ctx context.Context, projectID string) (e audit.OperatorEvent, ok bool, err error) {
	if !kit.IsUUID(projectID) {
		return e, false, nil
	}
	err = s.db.WithContext(ctx).Where("project_ref = ? AND action = ?", projectID, audit.ActionProjectExpunged).
		Order("created_at DESC, id DESC").Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return e, false, nil
	}
	return e, err == nil, err
}

// GlobalPageSize is how many lines a page of the global audit log shows.
const GlobalPageSize = 50

// AuditCursor is where a page of the global audit log starts: below the
// line of this time and id (the last one of the page before).
type AuditCursor struct {
	At time.Time
	ID string
}

// String writes the cursor for a link; ParseAuditCursor reads it back.
func (c AuditCursor) String() string {
	return c.At.UTC().Format(time.RFC3339Nano) + "_" + c.ID
}

// ParseAuditCursor reads a cursor that String wrote; ok is false for
// anything else.
func ParseAuditCursor(s string) (AuditCursor, bool) {
	at, id, found := strings.Cut(s, "_")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !found || err != nil || !kit.IsUUID(id) {
		return AuditCursor{}, false
	}
	return AuditCursor{At: t.UTC(), ID: id}, true
}

// GlobalAuditQuery selects a page of the global audit log.
type GlobalAuditQuery struct {
	// Project is a project's id, or its name in any letter case; empty for
	// every project and none.
	Project string
	// Actor is the email of who acted, in any letter case.
	Actor  string
	Action string
	// Before starts the page below a line; nil for the newest.
	Before *AuditCursor
}

// GlobalAuditLine is one line of the global audit log: an event of a
// project's audit log, a server-wide one, or one of the operator's log.
type GlobalAuditLine struct {
	ID string
	// ProjectID and ProjectName are the project the line is about, if
	// any; the name is the current one while the project exists, and the
	// one the operator's log kept after that. Live says it still exists.
	ProjectID, ProjectName string
	Live                   bool
	ActorEmail             string
	Action, Target         string
	Details                string
	IP                     string
	At                     time.Time
	// Operator marks a line of the operator's log.
	Operator bool
}

// GlobalAuditPage is a page of the global log, and where the next (older)
// one starts, if there is one.
type GlobalAuditPage struct {
	Lines []GlobalAuditLine
	Next  *AuditCursor
}

// GlobalAudit reads a page of the server's whole audit log, newest first:
// every project's audit events, the server-wide ones and the operator's
// log, which outlives the projects it names. Each part is read by keyset
// on (created_at, id) with an index that fits the filter, then the two are
// merged, so a page costs the same at any depth and size.
func (s System) GlobalAudit(ctx context.Context, q GlobalAuditQuery) (GlobalAuditPage, error) {
	var ev, op []string
	var evArgs, opArgs []any
	if p := strings.TrimSpace(q.Project); p != "" {
		if kit.IsUUID(p) {
			ev, evArgs = append(ev, "e.project_id = ?"), append(evArgs, p)
			op, opArgs = append(op, "o.project_ref = ?"), append(opArgs, p)
		} else {
			name := strings.ToLower(p)
			ev, evArgs = append(ev, "e.project_id IN (SELECT id FROM projects WHERE LOWER(name) = ?)"), append(evArgs, name)
			op = append(op, "(LOWER(o.project_name) = ? OR o.project_ref IN (SELECT id FROM projects WHERE LOWER(name) = ?))")
			opArgs = append(opArgs, name, name)
		}
	}
	if a := strings.ToLower(strings.TrimSpace(q.Actor)); a != "" {
		ev, evArgs = append(ev, "LOWER(e.actor_email) = ?"), append(evArgs, a)
		op, opArgs = append(op, "LOWER(o.actor_email) = ?"), append(opArgs, a)
	}
	if q.Action != "" {
		ev, evArgs = append(ev, "e.action = ?"), append(evArgs, q.Action)
		op, opArgs = append(op, "o.action = ?"), append(opArgs, q.Action)
	}
	if c := q.Before; c != nil {
		ev, evArgs = append(ev, "(e.created_at, e.id) < (?, ?)"), append(evArgs, c.At, c.ID)
		op, opArgs = append(op, "(o.created_at, o.id) < (?, ?)"), append(opArgs, c.At, c.ID)
	}
	where := func(conds []string) string {
		if len(conds) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(conds, " AND ")
	}
	limit := GlobalPageSize + 1
	query := `SELECT * FROM (SELECT e.id, COALESCE(e.project_id, '') AS project_id, COALESCE(p.name, '') AS project_name,
			p.id IS NOT NULL AS live, e.actor_email, e.action, e.target, e.details, e.ip, e.created_at, FALSE AS operator
			FROM audit_events e LEFT JOIN projects p ON p.id = e.project_id` + where(ev) + `
			ORDER BY e.created_at DESC, e.id DESC LIMIT ?) a
		UNION ALL
		SELECT * FROM (SELECT o.id, o.project_ref, COALESCE(p.name, o.project_name), p.id IS NOT NULL, o.actor_email,
			o.action, o.target, o.details, o.ip, o.created_at, TRUE
			FROM operator_events o LEFT JOIN projects p ON p.id = o.project_ref` + where(op) + `
			ORDER BY o.created_at DESC, o.id DESC LIMIT ?) b
		ORDER BY created_at DESC, id DESC LIMIT ?`
	args := append(append(append(evArgs, limit), opArgs...), limit, limit)
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return GlobalAuditPage{}, err
	}
	defer rows.Close()
	var out GlobalAuditPage
	for rows.Next() {
		var l GlobalAuditLine
		var at anyTime
		if err := rows.Scan(&l.ID, &l.ProjectID, &l.ProjectName, &l.Live, &l.ActorEmail, &l.Action, &l.Target,
			&l.Details, &l.IP, &at, &l.Operator); err != nil {
			return out, err
		}
		l.At = at.t
		out.Lines = append(out.Lines, l)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	if len(out.Lines) > GlobalPageSize {
		out.Lines = out.Lines[:GlobalPageSize]
		last := out.Lines[len(out.Lines)-1]
		out.Next = &AuditCursor{At: last.At, ID: last.ID}
	}
	return out, nil
}
