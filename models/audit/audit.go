// Package audit is the log of who changed what: one event per change, written
// in the transaction of the change it describes, and read back per project.
package audit

import (
	"context"
	"enclave/models/kit"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Audit actions. Secret values never appear in an event; settings changes
// carry their before and after values.
const (
	ActionSignInSucceeded = "signin.succeeded"
	ActionSignInFailed    = "signin.failed"
	ActionSettingsUpdated = "settings.updated"
	ActionSecretCreated   = "secret.created"
	ActionSecretUpdated   = "secret.updated"
	ActionSecretRenamed   = "secret.renamed"
	ActionSecretDeleted   = "secret.deleted"
	ActionMemberInvited   = "member.invited"
	ActionMemberAdded     = "member.added"
	ActionMemberUpdated   = "member.updated"
	ActionMemberRemoved   = "member.removed"
	ActionInviteAccepted  = "invite.accepted"
	ActionInviteDeclined  = "invite.declined"
	ActionInviteRevoked   = "invite.revoked"
	ActionPolicyCreated   = "policy.created"
	ActionPolicyUpdated   = "policy.updated"
	ActionPolicyDeleted   = "policy.deleted"
	ActionPatientJoined   = "patient.joined"

	ActionClientCreated       = "client.created"
	ActionClientSecretRotated = "client.secret-rotated"
	ActionClientEnabled       = "client.enabled"
	ActionClientDisabled      = "client.disabled"
	ActionClientDeleted       = "client.deleted"

	// A program signed in as a member (its code redeemed), and such a
	// sign-in ended (signed out, revoked, or a code or refresh token used
	// twice).
	ActionLoginGranted = "login.granted"
	ActionLoginRevoked = "login.revoked"

	// A super admin's acts (issue 11): a visit of a project they are no
	// member of, and changes to an account, recorded in each project the
	// account is a member of and once server-wide.
	ActionOperatorVisited   = "operator.visited"
	ActionUserDeactivated   = "user.deactivated"
	ActionUserReactivated   = "user.reactivated"
	ActionTemporaryPassword = "user.temporary-password"
)

// Actions lists every action, for the audit log's filter.
var Actions = []string{
	ActionSettingsUpdated, ActionSecretCreated, ActionSecretUpdated, ActionSecretRenamed, ActionSecretDeleted,
	ActionMemberInvited, ActionMemberAdded, ActionMemberUpdated, ActionMemberRemoved, ActionInviteAccepted,
	ActionInviteDeclined, ActionInviteRevoked, ActionPatientJoined,
	ActionPolicyCreated, ActionPolicyUpdated, ActionPolicyDeleted,
	ActionClientCreated, ActionClientSecretRotated, ActionClientEnabled, ActionClientDisabled, ActionClientDeleted,
	ActionSignInSucceeded, ActionSignInFailed, ActionLoginGranted, ActionLoginRevoked,
	ActionOperatorVisited, ActionUserDeactivated, ActionUserReactivated, ActionTemporaryPassword,
	ActionProjectPromoted,
	ActionProjectDeleted, ActionProjectRestored,
}

// Event is one line of the audit log.
type Event struct {
	ID         string
	ProjectID  *string
	UserID     *string
	ActorEmail string
	Action     string
	Target     string
	Details    string // JSON object
	IP         string
	CreatedAt  time.Time
}

// Actor is who performs an action, as the audit log records it.
type Actor struct {
	UserID string
	Email  string
	IP     string
}

// UserRef is the acting user's id as an updated_by column keeps it: nil
// when no user acts (the server itself).
func (a Actor) UserRef() *string {
	if a.UserID == "" {
		return nil
	}
	id := a.UserID
	return &id
}

// Change is a before/after pair in an audit event's details.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// TableName keeps the table's name.
func (Event) TableName() string { return "audit_events" }

func newEvent(projectID *string, a Actor, action, target string, details any) (Event, error) {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return Event{}, err
	}
	e := Event{ID: uuid.NewString(), ProjectID: projectID, ActorEmail: a.Email, Action: action,
		Target: target, Details: string(b), IP: a.IP, CreatedAt: kit.Now()}
	if a.UserID != "" {
		id := a.UserID
		e.UserID = &id
	}
	return e, nil
}

// Record writes an audit event of b's project; stores call it inside the
// transaction of the change it describes. Every admin action passes here, so
// it also moves kit.AuthEpoch; the transaction around it must move it again
// once committed (kit.Bound.InTx does).
func Record(ctx context.Context, b kit.Bound, a Actor, action, target string, details any) error {
	kit.BumpAuthEpoch()
	pid := b.ProjectID()
	e, err := newEvent(&pid, a, action, target, details)
	if err != nil {
		return err
	}
	return b.DB().WithContext(ctx).Create(&e).Error
}

// RecordServer writes a server-wide event, of no project, in tx.
func RecordServer(ctx context.Context, tx *gorm.DB, a Actor, action, target string, details any) error {
	kit.BumpAuthEpoch()
	e, err := newEvent(nil, a, action, target, details)
	if err != nil {
		return err
	}
	return tx.WithContext(ctx).Create(&e).Error
}

// RecordSignIn writes a server-wide sign-in event. a.UserID is empty when
// the email matched no account.
func RecordSignIn(ctx context.Context, db *gorm.DB, a Actor, succeeded bool) error {
	action := ActionSignInFailed
	if succeeded {
		action = ActionSignInSucceeded
	}
	e, err := newEvent(nil, a, action, a.Email, nil)
	if err != nil {
		return err
	}
	return db.WithContext(ctx).Create(&e).Error
}

// Operator actions: what a super admin does to a whole project. They are
// kept in the operator's log (OperatorEvent), which belongs to no project.
const (
	ActionProjectCloned   = "project.cloned"
	ActionProjectExpunged = "project.expunged"
	// A project admin's deletion of their project, and a super admin's
	// restore of it: in the project's own log and in the operator's.
	ActionProjectDeleted  = "project.deleted"
	ActionProjectRestored = "project.restored"
)

// OperatorActions lists the operator's log's actions, for the global
// log's filter.
var OperatorActions = []string{ActionProjectCloned, ActionProjectExpunged}

// OperatorEvent is one line of the operator's log: a super admin's act on a
// whole project. It outlives the project: target names it ("Project/<id>")
// and no project column does.
type OperatorEvent struct {
	ID         string
	UserID     *string
	ActorEmail string
	Action     string
	Target     string
	Details    string // JSON object
	IP         string
	CreatedAt  time.Time
	// ProjectRef and ProjectName are the project the line is about (from a
	// target "Project/<id>") and its name then (the details' "name"), so
	// that the global log finds and names it after it is gone. The column
	// is not project_id: an expunge deletes every row that has one.
	ProjectRef  string
	ProjectName string
}

// TableName keeps the table's name.
func (OperatorEvent) TableName() string { return "operator_events" }

// projectOf is the project an operator's line is about: the id its target
// names, and the name its details give.
func projectOf(target string, details any) (id, name string) {
	id, _ = strings.CutPrefix(target, "Project/")
	if id == target {
		id = ""
	}
	switch d := details.(type) {
	case map[string]any:
		name, _ = d["name"].(string)
	case map[string]string:
		name = d["name"]
	}
	return id, name
}

// RecordOperator writes a line of the operator's log on db, which is the
// transaction of the act it records.
func RecordOperator(ctx context.Context, db *gorm.DB, a Actor, action, target string, details any) error {
	e, err := newEvent(nil, a, action, target, details)
	if err != nil {
		return err
	}
	o := OperatorEvent{ID: e.ID, UserID: e.UserID, ActorEmail: e.ActorEmail, Action: e.Action, Target: e.Target,
		Details: e.Details, IP: e.IP, CreatedAt: e.CreatedAt}
	o.ProjectRef, o.ProjectName = projectOf(target, details)
	return db.WithContext(ctx).Create(&o).Error
}

// OperatorLog returns the newest limit lines of the operator's log, newest
// first.
func OperatorLog(ctx context.Context, db *gorm.DB, limit int) ([]OperatorEvent, error) {
	var out []OperatorEvent
	err := db.WithContext(ctx).Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// Trail reads one project's audit log.
type Trail struct{ b kit.Bound }

// For is the audit log of b's project.
func For(b kit.Bound) Trail { return Trail{b: b} }

// PageSize is how many events one page of the audit log shows.
const PageSize = 50

// Filter selects a page of the audit log.
type Filter struct {
	Action string // empty for all
	// Actor is the email address of who acted, in any letter case; empty
	// for everyone.
	Actor string
	// From and To bound when the events happened: From included, To
	// excluded. A zero time leaves that side open.
	From, To time.Time
	Page     int // 1-based
}

// AuditLog returns one page of the project's audit log, newest first, and
// whether an older page exists. It includes the sign-in events of the
// project's members.
func (t Trail) AuditLog(ctx context.Context, f Filter) ([]Event, bool, error) {
	if f.Page < 1 {
		f.Page = 1
	}
	// The project's own events, and its members' sign-ins from the time
	// they joined: an invitation reveals nothing of an account's past.
	q := t.b.DB().WithContext(ctx).Where(`(project_id = ? OR (project_id IS NULL AND EXISTS (SELECT 1 FROM project_memberships m
		WHERE m.project_id = ? AND m.user_id = audit_events.user_id AND m.created_at <= audit_events.created_at)))`, t.b.ProjectID(), t.b.ProjectID())
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if actor := strings.ToLower(strings.TrimSpace(f.Actor)); actor != "" {
		q = q.Where("LOWER(actor_email) = ?", actor)
	}
	if !f.From.IsZero() {
		q = q.Where("created_at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("created_at < ?", f.To.UTC())
	}
	var out []Event
	err := q.Order("created_at DESC, id DESC").Offset((f.Page - 1) * PageSize).Limit(PageSize + 1).Find(&out).Error
	if err != nil {
		return nil, false, err
	}
	more := len(out) > PageSize
	if more {
		out = out[:PageSize]
	}
	return out, more, nil
}

// Names are what the ids in audit events stand for, as far as the project
// still knows them: a deleted policy or a removed member has no entry.
type Names struct {
	Policies map[string]string // access policy id → name
	// Memberships and Users find a current member by membership id and by
	// account id.
	Memberships map[string]Person
	Users       map[string]Person
}

// Person is a member as the audit log names them.
type Person struct {
	ID, FirstName, LastName, Email string
}

// Name is the person's display name.
func (p Person) Name() string { return strings.TrimSpace(p.FirstName + " " + p.LastName) }

// AuditNames looks up the project's policies, memberships and members
// (by account id) among the given ids, in one query.
func (t Trail) AuditNames(ctx context.Context, policyIDs, membershipIDs, userIDs []string) (Names, error) {
	out := Names{Policies: map[string]string{}, Memberships: map[string]Person{}, Users: map[string]Person{}}
	if len(policyIDs)+len(membershipIDs)+len(userIDs) == 0 {
		return out, nil
	}
	// GORM writes an empty list as IN (NULL), which matches nothing.
	var rows []struct {
		Kind, ID, UserID, FirstName, LastName, Email string
	}
	err := t.b.DB().WithContext(ctx).Raw(`SELECT 'policy' AS kind, id, '' AS user_id, name AS first_name, '' AS last_name, '' AS email
		FROM access_policies WHERE project_id = ? AND id IN ?
		UNION ALL
		SELECT 'member', m.id, u.id, u.first_name, u.last_name, u.email
		FROM project_memberships m JOIN users u ON u.id = m.user_id
		WHERE m.project_id = ? AND (m.id IN ? OR m.user_id IN ?)`,
		t.b.ProjectID(), policyIDs, t.b.ProjectID(), membershipIDs, userIDs).Scan(&rows).Error
	if err != nil {
		return out, err
	}
	for _, r := range rows {
		if r.Kind == "policy" {
			out.Policies[r.ID] = r.FirstName
			continue
		}
		u := Person{ID: r.UserID, FirstName: r.FirstName, LastName: r.LastName, Email: r.Email}
		out.Memberships[r.ID] = u
		out.Users[r.UserID] = u
	}
	return out, nil
}

// ActionProjectPromoted: settings, access policies, API clients or secrets
// copied from one project to another (compare and promote), recorded in
// both projects and, when a super admin does it, in the operator's log.
const ActionProjectPromoted = "project.promoted"
