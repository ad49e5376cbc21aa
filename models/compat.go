package models

import (
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projects"
	"enclave/models/resources"
	"enclave/models/secrets"
)

// Aliases kept while handlers, web and cmd move to the domain packages;
// models itself no longer uses them.
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

type (
	Mail       = mail.Message
	QueuedMail = mail.Queued
	Letter     = mail.Letter
	Outbox     = mail.Outbox
)

const (
	OutboxFirstRetry  = mail.FirstRetry
	OutboxMaxAttempts = mail.MaxAttempts
	OutboxLease       = mail.Lease
)

var SetOutboxClock = mail.SetClockForTests

type (
	User         = accounts.User
	NewUser      = accounts.NewUser
	NewPassword  = accounts.NewPassword
	Session      = accounts.Session
	SessionMeta  = accounts.SessionMeta
	SessionInfo  = accounts.SessionInfo
	Sessions     = accounts.Sessions
	ThrottleRule = accounts.ThrottleRule
	TokenPurpose = accounts.TokenPurpose
	AccountToken = accounts.AccountToken
)

const (
	PurposeVerify     = accounts.PurposeVerify
	PurposeReset      = accounts.PurposeReset
	VerifyTTL         = accounts.VerifyTTL
	ResetTTL          = accounts.ResetTTL
	TouchEvery        = accounts.TouchEvery
	MinPasswordLength = accounts.MinPasswordLength
)

var (
	ErrLinkInvalid                 = accounts.ErrLinkInvalid
	ErrWrongPassword               = accounts.ErrWrongPassword
	ErrBadCredentials              = accounts.ErrBadCredentials
	EmailProblem                   = accounts.EmailProblem
	NormalizeEmail                 = accounts.NormalizeEmail
	PasswordProblem                = accounts.PasswordProblem
	HashPassword                   = accounts.HashPassword
	SetFastPasswordHashingForTests = accounts.SetFastPasswordHashingForTests
)

var (
	SignInPerAccount      = accounts.SignInPerAccount
	SignInPerAddress      = accounts.SignInPerAddress
	RegisterPerAddress    = accounts.RegisterPerAddress
	VerifyLinksPerAccount = accounts.VerifyLinksPerAccount
	ResetPerEmail         = accounts.ResetPerEmail
	ResetPerAddress       = accounts.ResetPerAddress
)

type (
	Secret         = secrets.Secret
	Secrets        = secrets.Store
	SecretBox      = secrets.Box
	SecretKeyError = secrets.KeyError
)

const (
	MaxSecretName  = secrets.MaxName
	MaxSecretValue = secrets.MaxValue
	SecretKeySize  = secrets.KeySize
)

var (
	NewSecretBox      = secrets.NewBox
	SecretKeyID       = secrets.KeyID
	GenerateSecretKey = secrets.GenerateKey
	EncodeSecretKey   = secrets.EncodeKey
	ParseSecretKey    = secrets.ParseKey
	ErrBadSecretKey   = secrets.ErrBadKey
	ErrSecretTampered = secrets.ErrTampered
)

type (
	Project        = projects.Project
	NewProject     = projects.NewProject
	SettingsUpdate = projects.SettingsUpdate
	SettingsChange = projects.SettingsChange
)

const MaxProjectNameLength = projects.MaxProjectNameLength

var ProjectFeatures = projects.ProjectFeatures

type (
	Resource      = resources.Resource
	ResourceError = resources.ResourceError
	QueryError    = resources.QueryError
	Page          = resources.Page
	History       = resources.History
	SearchQuery   = resources.SearchQuery
	SearchResult  = resources.SearchResult
	AccessPolicy  = resources.AccessPolicy
	PolicyInput   = resources.PolicyInput
	PolicyRule    = resources.PolicyRule
	PolicyRules   = resources.PolicyRules
)

const (
	MaxPolicyRules     = resources.MaxPolicyRules
	ProfileType        = resources.ProfileType
	MaxReferences      = resources.MaxReferences
	MaxIssues          = resources.MaxIssues
	MaxIndexRows       = resources.MaxIndexRows
	EstimateLimit      = resources.EstimateLimit
	DefaultSearchCount = resources.DefaultSearchCount
	MaxSearchCount     = resources.MaxSearchCount
	MaxSearchParams    = resources.MaxSearchParams
	MaxSearchValues    = resources.MaxSearchValues
	TotalNone          = resources.TotalNone
	TotalEstimate      = resources.TotalEstimate
	TotalAccurate      = resources.TotalAccurate
)

var (
	ErrGone               = resources.ErrGone
	ErrPreconditionFailed = resources.ErrPreconditionFailed
	ParseSearch           = resources.ParseSearch
	Searchable            = resources.Searchable
	WatchPipelines        = resources.WatchPipelines
)

type (
	ProjectMembership = members.ProjectMembership
	Member            = members.Member
	MemberUpdate      = members.MemberUpdate
	Invitation        = members.Invitation
	InviteInput       = members.InviteInput
	Invited           = members.Invited
	OpenInvitation    = members.OpenInvitation
	PendingInvitation = members.PendingInvitation
)

const InviteTTL = members.InviteTTL

var (
	ErrInviteExpired = members.ErrInviteExpired
	ErrNotVerified   = members.ErrNotVerified
	ErrOtherAddress  = members.ErrOtherAddress
	ErrLastAdmin     = members.ErrLastAdmin
	BackfillProfiles = members.BackfillProfiles
)
