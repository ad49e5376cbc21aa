package models

import (
	"context"
	"database/sql"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The super admin's side of the server (issue 11): an operator's view of any
// project, and the dashboard's server-wide lists and acts. Every entry here
// crosses project boundaries on purpose; web lets only super admins reach it.

// OperatorVisitEvery is how often an operator's visit of one project is
// written to its audit log: the first page they open there, then the first
// one after this long. Every page view would drown the log.
const OperatorVisitEvery = time.Hour

// SuperAdmin reports whether the caller is a super admin, from the projects
// the console resolved with it (AllProjects): no query of its own.
func (c Caller) SuperAdmin() bool {
	return c.resolved && c.All && c.SignedIn() && SuperAdminAmong(c.ProjectsOf())
}

// Operate builds a super admin's operator view of projectID, a project they
// are not a member of: the whole project, unrestricted by any access policy,
// meant to be read only (Scope.Operator; web refuses every write through
// it). Building it writes an operator.visited event, naming path, in the
// project's audit log, unless this operator's last one there is younger
// than OperatorVisitEvery. A caller who is not a super admin, or a project
// that does not exist, is ErrNotFound.
func (c Caller) Operate(ctx context.Context, projectID, path, ip string) (Scope, error) {
	if !c.SuperAdmin() || !kit.IsUUID(projectID) {
		return Scope{}, kit.ErrNotFound
	}
	t := ForProject(c.db, projectID)
	p, err := t.Project(ctx)
	if err != nil {
		return Scope{}, err
	}
	actor := audit.Actor{UserID: c.User.ID, Email: c.User.Email, IP: ip}
	var recent int64
	if err := c.db.WithContext(ctx).Model(&audit.Event{}).
		Where("project_id = ? AND user_id = ? AND action = ? AND created_at > ?", p.ID, c.User.ID, audit.ActionOperatorVisited, kit.Now().Add(-OperatorVisitEvery)).
		Limit(1).Count(&recent).Error; err != nil {
		return Scope{}, err
	}
	if recent == 0 {
		err := t.inTx(ctx, func(tx Tenant) error {
			return audit.Record(ctx, tx.bound(), actor, audit.ActionOperatorVisited, p.Name, map[string]string{"path": path})
		})
		if err != nil {
			return Scope{}, err
		}
	}
	t = t.WithProject(p)
	access := ProjectAccess{Project: p, Membership: members.ProjectMembership{ProjectID: p.ID, UserID: c.User.ID, Active: true}}
	return Scope{user: c.User, access: access, store: &t, operator: true}, nil
}

// ProjectSort orders the dashboard's project list.
type ProjectSort string

const (
	SortName        ProjectSort = "name"
	SortNameDesc    ProjectSort = "-name"
	SortCreated     ProjectSort = "created"
	SortCreatedDesc ProjectSort = "-created"
)

// orderBy is the sort's ORDER BY, each backed by an index (projects_name,
// projects_created) so that a page stays cheap at any size.
func (s ProjectSort) orderBy() string {
	switch s {
	case SortNameDesc:
		return "name DESC, id DESC"
	case SortCreated:
		return "created_at, id"
	case SortCreatedDesc:
		return "created_at DESC, id DESC"
	}
	return "name, id"
}

// ProjectSorts lists the sorts the dashboard offers, the default first.
var ProjectSorts = []ProjectSort{SortName, SortNameDesc, SortCreated, SortCreatedDesc}

// DashboardPageSize is how many rows one page of the dashboard's lists
// shows.
const DashboardPageSize = 50

// ProjectQuery selects a page of the dashboard's project list.
type ProjectQuery struct {
	// Search matches a part of the name, in any letter case.
	Search string
	Sort   ProjectSort
	Page   int // 1-based
}

// ProjectRow is one project as the dashboard lists it.
type ProjectRow struct {
	Project   projects.Project
	Members   int64
	Resources int64
	// Bytes estimates the size of the project's resources on disk; -1 when
	// the database cannot say (SQLite).
	Bytes int64
	// LastActivity is the newest audit event or resource change; zero when
	// there is none.
	LastActivity time.Time
}

// ProjectList is a page of projects and how many match in all.
type ProjectList struct {
	Rows  []ProjectRow
	Total int64
	Page  int
	More  bool
}

// likePattern matches s anywhere, its LIKE wildcards taken literally.
func likePattern(s string) string {
	s = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(strings.TrimSpace(s)))
	return "%" + s + "%"
}

// AllProjectsPage lists a page of every project on the server with its
// members, resources, size and last activity: one query for the page, one
// for the total, and one grouped query each for the members, the resources
// and the audit log of the page's projects, never one per row.
func (s System) AllProjectsPage(ctx context.Context, q ProjectQuery) (ProjectList, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	db := s.db.WithContext(ctx)
	base := db.Model(&projects.Project{})
	if strings.TrimSpace(q.Search) != "" {
		base = base.Where(`LOWER(name) LIKE ? ESCAPE '\'`, likePattern(q.Search))
	}
	out := ProjectList{Page: q.Page}
	if err := base.Session(&gorm.Session{}).Count(&out.Total).Error; err != nil {
		return out, err
	}
	var ps []projects.Project
	err := base.Session(&gorm.Session{}).Order(q.Sort.orderBy()).Offset((q.Page - 1) * DashboardPageSize).
		Limit(DashboardPageSize + 1).Find(&ps).Error
	if err != nil {
		return out, err
	}
	if len(ps) > DashboardPageSize {
		ps, out.More = ps[:DashboardPageSize], true
	}
	if len(ps) == 0 {
		return out, nil
	}
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	st, err := s.projectStats(ctx, ids)
	if err != nil {
		return out, err
	}
	for _, p := range ps {
		row := st[p.ID]
		row.Project = p
		if !row.LastActivity.After(p.UpdatedAt) {
			row.LastActivity = p.UpdatedAt
		}
		out.Rows = append(out.Rows, row)
	}
	return out, nil
}

// projectStats counts the members and resources of the projects ids, the
// size of their resources where PostgreSQL can say, and their last
// activity, in three grouped queries.
func (s System) projectStats(ctx context.Context, ids []string) (map[string]ProjectRow, error) {
	out := make(map[string]ProjectRow, len(ids))
	for _, id := range ids {
		out[id] = ProjectRow{Bytes: -1}
	}
	db := s.db.WithContext(ctx)
	var counts []struct {
		ProjectID string
		N         int64
	}
	if err := db.Raw(`SELECT project_id, COUNT(*) AS n FROM project_memberships WHERE active = ? AND project_id IN ?
		GROUP BY project_id`, true, ids).Scan(&counts).Error; err != nil {
		return nil, err
	}
	for _, c := range counts {
		r := out[c.ProjectID]
		r.Members = c.N
		out[c.ProjectID] = r
	}
	rows, err := db.Raw(`SELECT project_id, MAX(created_at) FROM audit_events WHERE project_id IN ? GROUP BY project_id`, ids).Rows()
	if err != nil {
		return nil, err
	}
	if err := scanLatest(rows, out); err != nil {
		return nil, err
	}
	pg := kit.DialectOf(s.db) == kit.Postgres
	size := "-1"
	if pg {
		size = "COALESCE(SUM(pg_column_size(content)), 0)"
	}
	q := `SELECT project_id, SUM(CASE WHEN deleted THEN 0 ELSE 1 END), ` + size + `, MAX(last_updated)
		FROM resources WHERE project_id IN ? GROUP BY project_id`
	return out, db.Transaction(func(tx *gorm.DB) error {
		if err := readAllResources(tx); err != nil {
			return err
		}
		rows, err := tx.Raw(q, ids).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var n, bytes int64
			var last anyTime
			if err := rows.Scan(&id, &n, &bytes, &last); err != nil {
				return err
			}
			r := out[id]
			r.Resources, r.Bytes = n, bytes
			if last.t.After(r.LastActivity) {
				r.LastActivity = last.t
			}
			out[id] = r
		}
		return rows.Err()
	})
}

// readAllResources lets the transaction tx read every project's resources
// on PostgreSQL: the one door through row-level security that migration
// 00021 opens, for the dashboard's counts, in this transaction only.
func readAllResources(tx *gorm.DB) error {
	if kit.DialectOf(tx) != kit.Postgres {
		return nil
	}
	return tx.Exec(`SELECT set_config('enclave.operator', 'stats', true)`).Error
}

// scanLatest reads (project id, newest time) rows into out's LastActivity.
func scanLatest(rows *sql.Rows, out map[string]ProjectRow) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		var last anyTime
		if err := rows.Scan(&id, &last); err != nil {
			return err
		}
		r := out[id]
		if last.t.After(r.LastActivity) {
			r.LastActivity = last.t
		}
		out[id] = r
	}
	return rows.Err()
}

// anyTime scans a time that SQLite returns as text from an aggregate
// (MAX of a DATETIME column has no declared type), and PostgreSQL as a
// time; NULL is the zero time.
type anyTime struct{ t time.Time }

// sqliteTimeLayouts are the ways the SQLite driver writes times.
var sqliteTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05"}

func (a *anyTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		a.t = time.Time{}
		return nil
	case time.Time:
		a.t = v.UTC()
		return nil
	case []byte:
		return a.Scan(string(v))
	case string:
		for _, layout := range sqliteTimeLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				a.t = t.UTC()
				return nil
			}
		}
		return errors.New("models: unreadable time " + v)
	}
	return errors.New("models: unsupported time column")
}

// UserRow is one account as the dashboard lists it, with its memberships.
type UserRow struct {
	User        accounts.User
	Memberships []UserMembership
}

// UserMembership is one project an account is a member of.
type UserMembership struct {
	ProjectID, ProjectName string
	Admin, Active          bool
}

// UserList is a page of accounts and how many match in all.
type UserList struct {
	Rows  []UserRow
	Total int64
	Page  int
	More  bool
}

// UserQuery selects a page of the dashboard's account list.
type UserQuery struct {
	// Search matches a part of the email or name, in any letter case.
	Search string
	Page   int // 1-based
}

// AllUsersPage lists a page of the server's accounts by email, each with
// its memberships (one grouped query for the page).
func (s System) AllUsersPage(ctx context.Context, q UserQuery) (UserList, error) {
	if q.Page < 1 {
		q.Page = 1
	}
	base := s.db.WithContext(ctx).Model(&accounts.User{})
	if strings.TrimSpace(q.Search) != "" {
		p := likePattern(q.Search)
		base = base.Where(`LOWER(email) LIKE ? ESCAPE '\' OR LOWER(first_name || ' ' || last_name) LIKE ? ESCAPE '\'`, p, p)
	}
	out := UserList{Page: q.Page}
	if err := base.Session(&gorm.Session{}).Count(&out.Total).Error; err != nil {
		return out, err
	}
	var us []accounts.User
	if err := base.Session(&gorm.Session{}).Order("email, id").Offset((q.Page - 1) * DashboardPageSize).
		Limit(DashboardPageSize + 1).Find(&us).Error; err != nil {
		return out, err
	}
	if len(us) > DashboardPageSize {
		us, out.More = us[:DashboardPageSize], true
	}
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	ms, err := s.membershipsOf(ctx, ids)
	if err != nil {
		return out, err
	}
	for _, u := range us {
		out.Rows = append(out.Rows, UserRow{User: u, Memberships: ms[u.ID]})
	}
	return out, nil
}

// membershipsOf lists the memberships of the accounts ids, by project name.
func (s System) membershipsOf(ctx context.Context, ids []string) (map[string][]UserMembership, error) {
	out := map[string][]UserMembership{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID string
		UserMembership
	}
	err := s.db.WithContext(ctx).Raw(`SELECT m.user_id, p.id AS project_id, p.name AS project_name, m.admin, m.active
		FROM project_memberships m JOIN projects p ON p.id = m.project_id
		WHERE m.user_id IN ? ORDER BY p.name, p.id`, ids).Scan(&rows).Error
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.UserMembership)
	}
	return out, err
}

// AccountOf loads one account with its memberships, for the dashboard.
func (s System) AccountOf(ctx context.Context, userID string) (UserRow, error) {
	if !kit.IsUUID(userID) {
		return UserRow{}, kit.ErrNotFound
	}
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return UserRow{}, err
	}
	ms, err := s.membershipsOf(ctx, []string{u.ID})
	return UserRow{User: u, Memberships: ms[u.ID]}, err
}

// ErrOwnAccount refuses an operator's dangerous act on their own account:
// a super admin who locked themselves out would need the command line.
var ErrOwnAccount = &kit.ValidationError{Fields: map[string]string{"confirm": "You cannot do this to your own account."}}

// confirmAccount checks that the operator typed the account's email.
func confirmAccount(u accounts.User, typed string) error {
	if accounts.NormalizeEmail(typed) != u.Email {
		return &kit.ValidationError{Fields: map[string]string{"confirm": "To confirm, type the account's email address: " + u.Email + "."}}
	}
	return nil
}

// operatorAct runs an operator's act on userID after its confirmation
// (the account's email, typed), and audits it as action in every project
// the account is a member of and once server-wide, in one transaction.
func (s System) operatorAct(ctx context.Context, by audit.Actor, userID, confirm, action string, act func(tx *gorm.DB) error) (accounts.User, error) {
	row, err := s.AccountOf(ctx, userID)
	if err != nil {
		return accounts.User{}, err
	}
	u := row.User
	if u.ID == by.UserID {
		return u, ErrOwnAccount
	}
	if err := confirmAccount(u, confirm); err != nil {
		return u, err
	}
	defer kit.BumpAuthEpoch()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := act(tx); err != nil {
			return err
		}
		details := map[string]string{"email": u.Email}
		for _, m := range row.Memberships {
			if err := audit.Record(ctx, kit.Bind(tx, m.ProjectID), by, action, u.Email, details); err != nil {
				return err
			}
		}
		return audit.RecordServer(ctx, tx, by, action, u.Email, details)
	})
	return u, err
}

// SetUserDeactivated deactivates the account userID, ending every session
// of it at once, or reactivates it; confirm must be its email. Audited.
func (s System) SetUserDeactivated(ctx context.Context, by audit.Actor, userID, confirm string, on bool) (accounts.User, error) {
	action := audit.ActionUserReactivated
	if on {
		action = audit.ActionUserDeactivated
	}
	return s.operatorAct(ctx, by, userID, confirm, action, func(tx *gorm.DB) error {
		return accounts.SetDeactivated(ctx, tx, userID, on)
	})
}

// SetTemporaryPassword gives the account userID a random password, returned
// once, that must be changed at the next sign-in, and ends its sessions;
// confirm must be its email. Audited.
func (s System) SetTemporaryPassword(ctx context.Context, by audit.Actor, userID, confirm string) (accounts.User, string, error) {
	var pw string
	u, err := s.operatorAct(ctx, by, userID, confirm, audit.ActionTemporaryPassword, func(tx *gorm.DB) (err error) {
		pw, err = accounts.SetTemporaryPassword(ctx, tx, userID)
		return err
	})
	return u, pw, err
}

// ServerFacts is what the dashboard's server page tells of the database.
type ServerFacts struct {
	Dialect kit.Dialect
	// Bytes is the database's size; -1 when unknown.
	Bytes int64
	// Migration is the newest migration applied; Migrations how many are.
	Migration, Migrations                   int64
	Users, Projects, Memberships, Resources int64
}

// Facts reads the server page's facts.
func (s System) Facts(ctx context.Context) (ServerFacts, error) {
	db := s.db.WithContext(ctx)
	f := ServerFacts{Dialect: kit.DialectOf(s.db), Bytes: -1}
	size := `SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()`
	if f.Dialect == kit.Postgres {
		size = `SELECT pg_database_size(current_database())`
	}
	if err := db.Raw(size).Scan(&f.Bytes).Error; err != nil {
		return f, err
	}
	if err := db.Raw(`SELECT COUNT(*), COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied AND version_id > 0`).
		Row().Scan(&f.Migrations, &f.Migration); err != nil {
		return f, err
	}
	for _, c := range []struct {
		n     *int64
		model any
	}{{&f.Users, &accounts.User{}}, {&f.Projects, &projects.Project{}}, {&f.Memberships, &members.ProjectMembership{}}} {
		if err := db.Model(c.model).Count(c.n).Error; err != nil {
			return f, err
		}
	}
	return f, db.Transaction(func(tx *gorm.DB) error {
		if err := readAllResources(tx); err != nil {
			return err
		}
		return tx.Raw(`SELECT COUNT(*) FROM resources WHERE NOT deleted`).Scan(&f.Resources).Error
	})
}
