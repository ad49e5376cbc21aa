package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"enclave/models"
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
	OpenRegistration(ctx context.Context, projectID string) (projects.Project, error)
	JoinAsPatient(ctx context.Context, projectID string, signedIn *accounts.User, in models.PatientSignUp, ip string) (accounts.User, error)
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
// verification email) and a login starts for it. Without a project (or with
// projectId "new") the program goes on with /auth/newproject; with the id of
// a project whose patient registration is open, the account is made as its
// join page makes one (with its Patient and membership, in one transaction)
// and the program goes on with /auth/newpatient. The answer is {login}.
func (h *Logins) NewUser(c echo.Context) error {
	var req newUserRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.ProjectID == "new" {
		req.ProjectID = ""
	}
	if req.ProjectID != "" {
		if _, err := h.Accounts.OpenRegistration(ctx(c), req.ProjectID); errors.Is(err, kit.ErrNotFound) {
			return invalidFields(c, map[string]string{"projectId": "No project with this id lets patients register: leave projectId out (or send \"new\") to make a project of your own"})
		} else if err != nil {
			return err
		}
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
	var u accounts.User
	if req.ProjectID == "" {
		u, err = h.Accounts.CreateUser(ctx(c), accounts.NewUser{FirstName: req.FirstName, LastName: req.LastName,
			Email: req.Email, Password: req.Password})
	} else {
		u, err = h.Accounts.JoinAsPatient(ctx(c), req.ProjectID, nil, models.PatientSignUp{FirstName: req.FirstName,
			LastName: req.LastName, Email: req.Email, Password: req.Password}, c.RealIP())
	}
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
	n.UserID, n.ProjectID = u.ID, req.ProjectID
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

// newPatientRequest is the body of POST /auth/newpatient.
type newPatientRequest struct {
	Login     string `json:"login"`
	ProjectID string `json:"projectId"`
}

// NewPatient answers POST /auth/newpatient (the SDK's startNewPatient): a
// login that /auth/newuser started for a project's patient registration
// gets its code for that patient's membership: {login, code}. Any other
// login is refused: a patient membership is made only with its account.
func (h *Logins) NewPatient(c echo.Context) error {
	var req newPatientRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if req.Login == "" {
		fields["login"] = "Missing login"
	}
	if req.ProjectID == "" {
		fields["projectId"] = "Missing projectId"
	}
	if len(fields) > 0 {
		return invalidFields(c, fields)
	}
	l, err := h.Accounts.PendingLogin(ctx(c), req.Login)
	if errors.Is(err, logins.ErrNotPending) || (err == nil && (l.ProjectID == nil || *l.ProjectID != req.ProjectID)) {
		return invalidFields(c, map[string]string{"login": "Invalid login: unknown, expired, or not a patient registration in this project"})
	}
	if err != nil {
		return err
	}
	list, err := projectsOf(c, h.Accounts, l.UserID)
	if err != nil {
		return err
	}
	for _, a := range list {
		if a.Project.ID == req.ProjectID {
			return h.answerCode(c, l, a)
		}
	}
	return invalidFields(c, map[string]string{"login": "Invalid login: not a patient registration in this project"})
}
