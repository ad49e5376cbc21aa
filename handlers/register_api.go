package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/logins"
	"enclave/models/projects"

	"github.com/labstack/echo/v4"
)

// ProgramRegistrar is what a program's registration needs: the console's account
// and project creation, and a login to carry the new user to a code.
type ProgramRegistrar interface {
	Accounts
	StartLogin(ctx context.Context, n logins.NewLogin) (logins.Login, error)
	PendingLogin(ctx context.Context, id string) (logins.Login, error)
	IssueLoginCode(ctx context.Context, loginID, projectID, membershipID string) (string, error)
}

// newUserRequest is the body of POST /auth/newuser (Medplum's startNewUser).
type newUserRequest struct {
	FirstName           string `json:"firstName"`
	LastName            string `json:"lastName"`
	Email               string `json:"email"`
	Password            string `json:"password"`
	ProjectID           string `json:"projectId"`
	ClientID            string `json:"clientId"`
	CodeChallenge       string `json:"codeChallenge"`
	CodeChallengeMethod string `json:"codeChallengeMethod"`
	Scope               string `json:"scope"`
	Nonce               string `json:"nonce"`
}

// NewUser answers POST /auth/newuser: the account is made as on the
// console's register form (same rules, same limit per address, the same
// verification email) and a login starts for it, with no project yet; the
// program goes on with /auth/newproject. The answer is {login}.
func (h *Logins) NewUser(c echo.Context) error {
	var req newUserRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.ProjectID != "" && req.ProjectID != "new" {
		return invalidFields(c, map[string]string{"projectId": "Registration here makes a new project: leave projectId out or send \"new\"; to join a project as a patient, use its join page"})
	}
	if req.Scope == "" {
		req.Scope = defaultScope
	}
	n := logins.NewLogin{ClientID: strings.TrimSpace(req.ClientID), Scope: req.Scope, Nonce: req.Nonce,
		CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod, IP: c.RealIP()}
	if fields := kit.FieldErrors(n.Validate()); len(fields) > 0 {
		return invalidFields(c, fields)
	}
	if n.ClientID != "" {
		return invalidFields(c, map[string]string{"clientId": "Registration makes a new project, which no API client belongs to: leave clientId out"})
	}
	wait, err := h.Accounts.Attempt(ctx(c), "register-ip:"+c.RealIP(), accounts.RegisterPerAddress)
	if err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return writeOutcome(c, http.StatusTooManyRequests, outcome("error", "throttled", "",
			"Too many registrations from your address. Try again in "+humanWait(wait)+"."))
	}
	u, err := h.Accounts.CreateUser(ctx(c), accounts.NewUser{FirstName: req.FirstName, LastName: req.LastName,
		Email: req.Email, Password: req.Password})
	if fields := kit.FieldErrors(err); fields != nil {
		return invalidFields(c, fields)
	}
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "user registered by a program", "user", u.ID)
	if _, err := sendVerification(c, h.Accounts, h.Postman, u, u.Email); err != nil {
		return err
	}
	n.UserID = u.ID
	l, err := h.Accounts.StartLogin(ctx(c), n)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]string{"login": l.ID})
}

// newProjectRequest is the body of POST /auth/newproject.
type newProjectRequest struct {
	Login       string `json:"login"`
	ProjectName string `json:"projectName"`
	Description string `json:"description"`
}

// NewProject answers POST /auth/newproject: the user of a pending login
// that has not chosen a project makes one (as the console's new-project
// form, with them as its admin), and the login gets its code: {login, code}.
func (h *Logins) NewProject(c echo.Context) error {
	var req newProjectRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.Login == "" {
		return invalidFields(c, map[string]string{"login": "Missing login"})
	}
	l, err := h.Accounts.PendingLogin(ctx(c), req.Login)
	if errors.Is(err, logins.ErrNotPending) || (err == nil && l.ProjectID != nil) {
		return invalidFields(c, map[string]string{"login": "Invalid login: unknown, expired, or its project is already chosen"})
	}
	if err != nil {
		return err
	}
	pr, err := h.Accounts.CreateProject(ctx(c), l.UserID, projects.NewProject{Name: req.ProjectName, Description: req.Description})
	if fields := kit.FieldErrors(err); fields != nil {
		if msg, ok := fields["name"]; ok { // the form's field is the SDK's projectName
			delete(fields, "name")
			fields["projectName"] = msg
		}
		return invalidFields(c, fields)
	}
	if err != nil {
		return err
	}
	list, err := projectsOf(c, h.Accounts, l.UserID)
	if err != nil {
		return err
	}
	for _, a := range list {
		if a.Project.ID == pr.ID {
			return h.answerCode(c, l, a)
		}
	}
	return errors.New("handlers: a new project is not among its creator's projects")
}
