package handlers

import (
	"context"
	"time"

	"enclave/models"
	"enclave/models/clients"
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
	CreateProject(ctx context.Context, userID string, n models.NewProject) (models.Project, error)
}

// Throttle counts attempts (sign-in, links, password checks).
type Throttle interface {
	Attempt(ctx context.Context, key string, rule models.ThrottleRule) (time.Duration, error)
	RefundAttempt(ctx context.Context, key string) error
	ResetAttempts(ctx context.Context, key string) error
}

// ClientAuthenticator checks the credentials an API client presents at the
// token endpoint, throttled like the sign-in form.
type ClientAuthenticator interface {
	Throttle
	AuthenticateClient(ctx context.Context, clientID, secret string) (clients.Client, error)
}

// Accounts is the server-wide store of people: registration, sign-in,
// one-time links, the account page, and invitations to an address.
type Accounts interface {
	ProjectMaker
	Throttle
	CreateUser(ctx context.Context, n models.NewUser) (models.User, error)
	Authenticate(ctx context.Context, email, password string) (models.User, error)
	UserByEmail(ctx context.Context, email string) (models.User, error)
	RecordSignIn(ctx context.Context, a models.Actor, ok bool) error
	IssueAccountToken(ctx context.Context, userID string, purpose models.TokenPurpose, email string, mail models.Letter) (string, time.Time, error)
	PeekAccountToken(ctx context.Context, token string, purpose models.TokenPurpose) (models.User, string, error)
	VerifyEmail(ctx context.Context, token string) (models.User, error)
	ResetPassword(ctx context.Context, token string, pw models.NewPassword) (models.User, error)
	ChangePassword(ctx context.Context, userID, current string, pw models.NewPassword, keepToken string) error
	UpdateName(ctx context.Context, userID, first, last string) (models.User, error)
	RequestEmailChange(ctx context.Context, userID, current, email string, mail models.Letter) (string, error)
	UserSessions(ctx context.Context, userID, currentToken string) ([]models.SessionInfo, error)
	EndUserSession(ctx context.Context, userID, sessionID string) error
	InvitationsFor(ctx context.Context, u models.User) ([]models.PendingInvitation, error)
	InvitationByToken(ctx context.Context, token string) (models.PendingInvitation, error)
	AcceptInvitation(ctx context.Context, u models.User, id, ip string) (string, error)
	DeclineInvitation(ctx context.Context, u models.User, id, ip string) error
}
