package models

import (
	"enclave/models/audit"
	"enclave/models/kit"
)

// Aliases kept while callers move to the domain packages.
type (
	ValidationError = kit.ValidationError
	Dialect         = kit.Dialect
	StringList      = kit.StringList
)

const (
	SQLite   = kit.SQLite
	Postgres = kit.Postgres
)

var (
	ErrNotFound   = kit.ErrNotFound
	ErrConflict   = kit.ErrConflict
	ErrForbidden  = kit.ErrForbidden
	ErrStale      = kit.ErrStale
	FieldErrors   = kit.FieldErrors
	NormalizeName = kit.NormalizeName
	DialectOf     = kit.DialectOf
	AuthEpoch     = kit.AuthEpoch
)

type (
	AuditEvent  = audit.Event
	AuditFilter = audit.Filter
	AuditNames  = audit.Names
	Actor       = audit.Actor
	Change      = audit.Change
)

const AuditPageSize = audit.PageSize

var AuditActions = audit.Actions

const (
	ActionSignInSucceeded = audit.ActionSignInSucceeded
	ActionSignInFailed    = audit.ActionSignInFailed
	ActionSettingsUpdated = audit.ActionSettingsUpdated
	ActionSecretCreated   = audit.ActionSecretCreated
	ActionSecretUpdated   = audit.ActionSecretUpdated
	ActionSecretRenamed   = audit.ActionSecretRenamed
	ActionSecretDeleted   = audit.ActionSecretDeleted
	ActionMemberInvited   = audit.ActionMemberInvited
	ActionMemberAdded     = audit.ActionMemberAdded
	ActionMemberUpdated   = audit.ActionMemberUpdated
	ActionMemberRemoved   = audit.ActionMemberRemoved
	ActionInviteAccepted  = audit.ActionInviteAccepted
	ActionInviteDeclined  = audit.ActionInviteDeclined
	ActionInviteRevoked   = audit.ActionInviteRevoked
	ActionPolicyCreated   = audit.ActionPolicyCreated
	ActionPolicyUpdated   = audit.ActionPolicyUpdated
	ActionPolicyDeleted   = audit.ActionPolicyDeleted
)
