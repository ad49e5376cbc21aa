package handlers

import (
	"context"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/models/clients"
	"enclave/models/logins"
	"enclave/models/mail"
	"enclave/models/members"
	"enclave/models/projectops"
	"enclave/models/projects"
	"enclave/models/secrets"
)

// The handlers reach server-wide data only through these narrow interfaces,
// which models.System satisfies. None of them can open a project's store:
// project data comes only through the models.Scope that the membership
// middleware hands a project route (see TestHandlersStayInTheirScope).

// Directory is what every page needs across projects: the signed-in user's
// own projects, for the switcher and the chooser.
type Directory interface {
	ProjectsOf(ctx context.Context, userID string) ([]models.ProjectAccess, error)
}

// ProjectMaker creates projects for the signed-in user, once per form.
type ProjectMaker interface {
	FormDirectory
	CreateProject(ctx context.Context, userID string, n projects.NewProject) (projects.Project, error)
}

// Throttle counts attempts (sign-in, links, password checks).
type Throttle interface {
	Attempt(ctx context.Context, key string, rule accounts.ThrottleRule) (time.Duration, error)
	RefundAttempt(ctx context.Context, key string) error
	ResetAttempts(ctx context.Context, key string) error
}

// ClientAuthenticator checks the credentials an API client presents at the
// token endpoint, throttled like the sign-in form.
type ClientAuthenticator interface {
	Throttle
	AuthenticateClient(ctx context.Context, clientID, secret string) (clients.Client, error)
}

// Grants is what the token endpoint needs: clients' credentials, and users'
// logins (authorization codes, refresh tokens, revocation).
type Grants interface {
	ClientAuthenticator
	ClientByID(ctx context.Context, clientID string) (clients.Client, error)
	RedeemLoginCode(ctx context.Context, code, ip string, check func(logins.Login) error) (logins.Login, error)
	IssueRefreshToken(ctx context.Context, loginID string) (string, error)
	RotateRefreshToken(ctx context.Context, token, ip string) (logins.Login, string, error)
	LoginOfRefreshToken(ctx context.Context, token string) (logins.Login, error)
	RevokeLogin(ctx context.Context, userID, loginID, ip, reason string) error
	ResolveLogin(ctx context.Context, loginID, projectID string) (models.Caller, error)
}

// UserSignIn is what a program's sign-in for a user needs (/auth/login,
// /auth/profile, /oauth2/authorize): the password check, the user's
// memberships and pending logins.
type UserSignIn interface {
	Directory
	Throttle
	Authenticate(ctx context.Context, email, password string) (accounts.User, error)
	UserByEmail(ctx context.Context, email string) (accounts.User, error)
	RecordSignIn(ctx context.Context, a audit.Actor, ok bool) error
	ClientByID(ctx context.Context, clientID string) (clients.Client, error)
	StartLogin(ctx context.Context, n logins.NewLogin) (logins.Login, error)
	PendingLogin(ctx context.Context, id string) (logins.Login, error)
	IssueLoginCode(ctx context.Context, loginID, projectID, membershipID string) (string, error)
}

// Accounts is the server-wide store of people: registration, sign-in,
// one-time links, the account page, and invitations to an address.
type Accounts interface {
	ProjectMaker
	Throttle
	CreateUser(ctx context.Context, n accounts.NewUser) (accounts.User, error)
	Authenticate(ctx context.Context, email, password string) (accounts.User, error)
	UserByEmail(ctx context.Context, email string) (accounts.User, error)
	RecordSignIn(ctx context.Context, a audit.Actor, ok bool) error
	IssueAccountToken(ctx context.Context, userID string, purpose accounts.TokenPurpose, email string, mail mail.Letter) (string, time.Time, error)
	PeekAccountToken(ctx context.Context, token string, purpose accounts.TokenPurpose) (accounts.User, string, error)
	VerifyEmail(ctx context.Context, token string) (accounts.User, error)
	ResetPassword(ctx context.Context, token string, pw accounts.NewPassword) (accounts.User, error)
	ChangePassword(ctx context.Context, userID, current string, pw accounts.NewPassword, keepToken string) error
	UpdateName(ctx context.Context, userID, first, last string) (accounts.User, error)
	RequestEmailChange(ctx context.Context, userID, current, email string, mail mail.Letter) (string, error)
	UserSessions(ctx context.Context, userID, currentToken string) ([]accounts.SessionInfo, error)
	EndUserSession(ctx context.Context, userID, sessionID string) error
	InvitationsFor(ctx context.Context, u accounts.User) ([]members.PendingInvitation, error)
	InvitationByToken(ctx context.Context, token string) (members.PendingInvitation, error)
	AcceptInvitation(ctx context.Context, u accounts.User, id, ip string) (string, error)
	DeclineInvitation(ctx context.Context, u accounts.User, id, ip string) error
}

// Operators is the super admin's dashboard: every project and account on
// the server, the acts on an account, and the server's facts. Only the
// super-admin routes hold it.
type Operators interface {
	Directory
	AllProjectsPage(ctx context.Context, q models.ProjectQuery) (models.ProjectList, error)
	AllUsersPage(ctx context.Context, q models.UserQuery) (models.UserList, error)
	AccountOf(ctx context.Context, userID string) (models.UserRow, error)
	SetUserDeactivated(ctx context.Context, by audit.Actor, userID, confirm string, on bool) (accounts.User, error)
	SetTemporaryPassword(ctx context.Context, by audit.Actor, userID, confirm string) (accounts.User, string, error)
	Facts(ctx context.Context) (models.ServerFacts, error)
	Expunged(ctx context.Context, projectID string) (audit.OperatorEvent, bool, error)
}

// ProjectOperators is what a super admin's acts on whole projects need: who
// is a super admin, and the acts themselves (see package projectops).
type ProjectOperators interface {
	IsSuperAdmin(ctx context.Context, userID string) (bool, error)
	CloneProject(ctx context.Context, box *secrets.Box, in projectops.CloneInput) (projectops.CloneResult, error)
	ExpungeProject(ctx context.Context, a audit.Actor, projectID string) (projectops.ExpungeResult, error)
}
