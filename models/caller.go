package models

import (
	"context"
	"database/sql"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"time"

	"gorm.io/gorm"
)

// AllProjects asks ResolveCaller for every project the caller is an active
// member of, instead of one.
const AllProjects = "*"

// Caller is who a request comes from, as one query resolved it from the
// session token. Treat it as read-only: a cache may share it between requests.
type Caller struct {
	// Session is the encoded data of the live session.
	Session []byte
	// SessionExpires is when the session stops being valid.
	SessionExpires time.Time
	// SessionLastSeen is when the session was last marked as used (zero
	// when never); see Sessions.Touch.
	SessionLastSeen time.Time
	// User is the session's user; its ID is empty when the session has no
	// user (or the user is gone), which counts as signed out.
	User accounts.User
	// Projects are the asked projects where the user is an active member,
	// with the membership's access policy: the one project asked for, or
	// with AllProjects every one of them, ordered by name.
	Projects []CallerAccess
	// All is true when Projects lists every active membership (AllProjects
	// was asked).
	All bool
	// LoginID is the login of the access token the caller presented
	// (ResolveLogin); empty for a session.
	LoginID string

	// resolved and db are set by ResolveCaller: only such a Caller can
	// Enter a project.
	resolved bool
	db       *gorm.DB
}

// CallerAccess is a caller's way into one project: the project, the active
// membership and its access policy.
type CallerAccess struct {
	ProjectAccess
	// Policy is the membership's access policy; nil when it has none.
	Policy *resources.AccessPolicy
}

// SignedIn reports whether the session belongs to an existing user.
func (c Caller) SignedIn() bool { return c.User.ID != "" }

// Access returns the caller's way into projectID, or ErrNotFound when that
// project was not asked for, does not exist, or the user is not an active
// member of it (the three are indistinguishable on purpose).
func (c Caller) Access(projectID string) (CallerAccess, error) {
	for _, a := range c.Projects {
		if a.Project.ID == projectID {
			return a, nil
		}
	}
	return CallerAccess{}, kit.ErrNotFound
}

// ProjectsOf lists the projects of c.Projects as ProjectsOf would.
func (c Caller) ProjectsOf() []ProjectAccess {
	out := make([]ProjectAccess, len(c.Projects))
	for i, a := range c.Projects {
		out[i] = a.ProjectAccess
	}
	return out
}

// callerSQL reads a live session, its user, and the user's active
// memberships with their projects and access policies, in one statement.
// %s is the extra membership condition (one project, or none for all).
const callerSQL = `SELECT s.data, s.expires_at, s.last_seen_at,` + callerColumns + `
FROM sessions s
LEFT JOIN users u ON u.id = s.user_id AND ` + userOfLiveProject + `
LEFT JOIN project_memberships m ON m.user_id = u.id AND m.active = ?`

// userOfLiveProject keeps out of a resolution an account scoped to a
// project that is deleted: its sessions and logins count as no one's while
// the project waits for its expunge (which deletes the account).
const userOfLiveProject = `(u.project_id IS NULL OR NOT EXISTS
	(SELECT 1 FROM projects up WHERE up.id = u.project_id AND up.deleted_at IS NOT NULL))`

// callerColumns are the user's, membership's, project's and policy's
// columns of a caller's resolution (callerRow.dest after the session).
const callerColumns = `
	u.id, u.project_id, u.first_name, u.last_name, u.email, u.password_hash, u.email_verified_at, u.created_at, u.updated_at,
	u.deactivated_at, u.must_change_password,
	m.id, m.project_id, m.user_id, m.admin, m.active, m.access_policy_id, m.invited_by, m.profile_type,
	m.profile_id, m.created_at, m.updated_at,
	p.id, p.name, p.description, p.super_admin, p.strict_mode, p.check_references_on_write, p.features,
	p.default_patient_access_policy, p.owner_id, p.version, p.created_at, p.updated_at,
	ap.id, ap.project_id, ap.name, ap.rules, ap.created_at, ap.updated_at`

const callerSQLFrom = callerJoins + `
WHERE s.id = ? AND s.expires_at > ?
ORDER BY p.name, p.id`

// callerJoins join a membership's project and access policy. A deleted
// project joins nothing, so that its memberships are absent from every
// resolution (sessions, users' access tokens) from the moment it is
// deleted: this is where a deleted project disappears for its members.
const callerJoins = `
LEFT JOIN projects p ON p.id = m.project_id AND p.deleted_at IS NULL
LEFT JOIN access_policies ap ON ap.id = m.access_policy_id AND ap.project_id = m.project_id`

// ResolveCaller resolves a request's caller in one SQL statement: the live
// session with this token (looked up by its SHA-256), its user, and the
// user's active membership in projectID with the project and the
// membership's access policy. projectID may be AllProjects for every
// membership, or empty (or anything but a project id) for none.
//
// A session that is unknown or expired is ErrNotFound. A session without an
// existing user resolves with an empty User: signed out. A project that does
// not exist, or where the user is not an active member, is simply absent from
// Projects (Caller.Access says ErrNotFound).
func (s System) ResolveCaller(ctx context.Context, token, projectID string) (Caller, error) {
	q := callerSQL
	args := []any{true}
	switch {
	case projectID == AllProjects:
	case kit.IsUUID(projectID):
		q += " AND m.project_id = ?"
		args = append(args, projectID)
	default:
		q += " AND 1 = 0" // no project asked: join no membership
	}
	q += callerSQLFrom
	args = append(args, kit.HashToken(token), kit.Now())
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return Caller{}, err
	}
	defer rows.Close()
	out := Caller{All: projectID == AllProjects, resolved: true, db: s.db}
	found := false
	for rows.Next() {
		var r callerRow
		if err := rows.Scan(r.dest()...); err != nil {
			return Caller{}, err
		}
		if !found {
			found = true
			out.Session, out.SessionExpires, out.SessionLastSeen = r.data, r.expires, r.lastSeen.Time
			out.User = r.user()
		}
		if a, ok := r.access(); ok {
			out.Projects = append(out.Projects, a)
		}
	}
	if err := rows.Err(); err != nil {
		return Caller{}, err
	}
	if !found {
		return Caller{}, kit.ErrNotFound
	}
	return out, nil
}

// callerRow is one row of callerSQL; everything after the session may be
// NULL (outer joins).
type callerRow struct {
	data     []byte
	expires  time.Time
	lastSeen sql.NullTime

	uID, uProject, uFirst, uLast, uEmail, uHash sql.NullString
	uVerified, uCreated, uUpdated               sql.NullTime
	uDeactivated                                sql.NullTime
	uMustChange                                 sql.NullBool

	mID, mProject, mUser, mPolicy, mInvitedBy, mProfileType, mProfileID sql.NullString
	mAdmin, mActive                                                     sql.NullBool
	mCreated, mUpdated                                                  sql.NullTime

	pID, pName, pDescription, pDefaultPolicy, pOwner sql.NullString
	pSuperAdmin, pStrict, pCheckRefs                 sql.NullBool
	pFeatures                                        kit.StringList
	pVersion                                         sql.NullInt64
	pCreated, pUpdated                               sql.NullTime

	apID, apProject, apName sql.NullString
	apRules                 resources.PolicyRules
	apCreated, apUpdated    sql.NullTime
}

func (r *callerRow) dest() []any {
	return []any{&r.data, &r.expires, &r.lastSeen,
		&r.uID, &r.uProject, &r.uFirst, &r.uLast, &r.uEmail, &r.uHash, &r.uVerified, &r.uCreated, &r.uUpdated,
		&r.uDeactivated, &r.uMustChange,
		&r.mID, &r.mProject, &r.mUser, &r.mAdmin, &r.mActive, &r.mPolicy, &r.mInvitedBy, &r.mProfileType,
		&r.mProfileID, &r.mCreated, &r.mUpdated,
		&r.pID, &r.pName, &r.pDescription, &r.pSuperAdmin, &r.pStrict, &r.pCheckRefs, &r.pFeatures,
		&r.pDefaultPolicy, &r.pOwner, &r.pVersion, &r.pCreated, &r.pUpdated,
		&r.apID, &r.apProject, &r.apName, &r.apRules, &r.apCreated, &r.apUpdated}
}

// user is the session's user; a deactivated one counts as no one (signed
// out), whatever else its session still says.
func (r *callerRow) user() accounts.User {
	if !r.uID.Valid || r.uDeactivated.Valid {
		return accounts.User{}
	}
	return accounts.User{ID: r.uID.String, ProjectID: nullable(r.uProject), FirstName: r.uFirst.String,
		LastName: r.uLast.String, Email: r.uEmail.String, PasswordHash: r.uHash.String,
		EmailVerifiedAt: nullableTime(r.uVerified), MustChangePassword: r.uMustChange.Bool, CreatedAt: r.uCreated.Time, UpdatedAt: r.uUpdated.Time}
}

func nullableTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

func (r *callerRow) access() (CallerAccess, bool) {
	if !r.mID.Valid || !r.pID.Valid {
		return CallerAccess{}, false
	}
	a := CallerAccess{ProjectAccess: ProjectAccess{
		Project: projects.Project{ID: r.pID.String, Name: r.pName.String, Description: r.pDescription.String,
			SuperAdmin: r.pSuperAdmin.Bool, StrictMode: r.pStrict.Bool, CheckReferencesOnWrite: r.pCheckRefs.Bool,
			Features: r.pFeatures, DefaultPatientAccessPolicy: nullable(r.pDefaultPolicy), OwnerID: nullable(r.pOwner),
			Version: int(r.pVersion.Int64), CreatedAt: r.pCreated.Time, UpdatedAt: r.pUpdated.Time},
		Membership: members.ProjectMembership{ID: r.mID.String, ProjectID: r.mProject.String, UserID: r.mUser.String,
			Admin: r.mAdmin.Bool, Active: r.mActive.Bool, AccessPolicyID: nullable(r.mPolicy),
			InvitedBy: nullable(r.mInvitedBy), ProfileType: r.mProfileType.String, ProfileID: nullable(r.mProfileID),
			CreatedAt: r.mCreated.Time, UpdatedAt: r.mUpdated.Time},
	}}
	if r.apID.Valid {
		a.Policy = &resources.AccessPolicy{ID: r.apID.String, ProjectID: r.apProject.String, Name: r.apName.String,
			Rules: r.apRules, CreatedAt: r.apCreated.Time, UpdatedAt: r.apUpdated.Time}
	}
	return a, true
}

func nullable(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// loginSQL reads a granted, unrevoked login with its user and its active
// membership, project and access policy, in one statement.
const loginSQL = `SELECT l.project_id,` + callerColumns + `
FROM logins l
JOIN users u ON u.id = l.user_id AND ` + userOfLiveProject + `
LEFT JOIN project_memberships m ON m.id = l.membership_id AND m.active = ?` + callerJoins + `
WHERE l.id = ? AND l.granted = ? AND l.revoked = ?`

// ResolveLogin resolves the caller of a user's access token from its login,
// in one SQL statement: the user and the login's membership, when it is
// still active and in projectID (the token's project). A login that is
// unknown, not granted or revoked is ErrNotFound; a membership that is
// gone, inactive or of another project leaves Projects empty.
func (s System) ResolveLogin(ctx context.Context, loginID, projectID string) (Caller, error) {
	if !kit.IsUUID(loginID) {
		return Caller{}, kit.ErrNotFound
	}
	rows, err := s.db.WithContext(ctx).Raw(loginSQL, true, loginID, true, false).Rows()
	if err != nil {
		return Caller{}, err
	}
	defer rows.Close()
	out := Caller{LoginID: loginID, resolved: true, db: s.db}
	found := false
	for rows.Next() {
		var r callerRow
		var project sql.NullString
		if err := rows.Scan(append([]any{&project}, r.dest()[3:]...)...); err != nil {
			return Caller{}, err
		}
		found = true
		out.User = r.user()
		if a, ok := r.access(); ok && project.String == projectID && a.Project.ID == projectID {
			out.Projects = append(out.Projects, a)
		}
	}
	if err := rows.Err(); err != nil {
		return Caller{}, err
	}
	if !found {
		return Caller{}, kit.ErrNotFound
	}
	return out, nil
}
