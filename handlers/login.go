package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/logins"

	"github.com/labstack/echo/v4"
)

// Logins serves a program's sign-in for a user, as Medplum's SDK drives it:
// POST /auth/login checks the password and answers a one-time code (or the
// memberships to choose from), POST /auth/profile chooses one, and the
// token endpoint trades the code for tokens. GET /auth/me says who a token
// acts as. Errors are OperationOutcomes.
type Logins struct {
	Sys UserSignIn
	// Accounts and Postman serve registration by a program
	// (/auth/newuser, /auth/newproject).
	Accounts ProgramRegistrar
	Postman  Postman
	Log      *slog.Logger
}

// maxLoginBody bounds the JSON of a sign-in request.
const maxLoginBody = 64 << 10

// defaultScope is the scope of a login that asks for none (as Medplum).
const defaultScope = "openid"

// readJSON decodes a request's JSON body into v: application/json or
// application/fhir+json (what Medplum's SDK sends), at most maxLoginBody.
// Anything else is a 400 OperationOutcome.
func readJSON(c echo.Context, v any) error {
	r := c.Request()
	mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != echo.MIMEApplicationJSON && mt != "application/fhir+json") {
		return echo.NewHTTPError(http.StatusBadRequest, "Send the body as JSON (application/json or application/fhir+json)")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxLoginBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The request body could not be read").SetInternal(err)
	}
	if len(body) > maxLoginBody {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The request body is too large")
	}
	return decodeObject(body, v)
}

// invalidFields answers 400 with one OperationOutcome issue per field, as
// Medplum does for a request that fails validation.
func invalidFields(c echo.Context, fields map[string]string) error {
	oo := operationOutcome{ResourceType: "OperationOutcome"}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		oo.Issue = append(oo.Issue, outcome("error", "invalid", k, fields[k]).Issue[0])
	}
	return writeOutcome(c, http.StatusBadRequest, oo)
}

// invalid answers 400 with an OperationOutcome saying msg.
func invalid(c echo.Context, msg string) error {
	return writeOutcome(c, http.StatusBadRequest, outcome("error", "invalid", "", msg))
}

// loginRequest is the body of POST /auth/login.
type loginRequest struct {
	Email               string `json:"email"`
	Password            string `json:"password"`
	CodeChallenge       string `json:"codeChallenge"`
	CodeChallengeMethod string `json:"codeChallengeMethod"`
	ClientID            string `json:"clientId"`
	ProjectID           string `json:"projectId"`
	Scope               string `json:"scope"`
	Nonce               string `json:"nonce"`
	// Remember is Medplum's legacy flag for a refresh token; every login
	// gets one here, so it changes nothing.
	Remember bool `json:"remember"`
}

// reference is a FHIR Reference as Medplum's answers carry them.
type reference struct {
	Reference string `json:"reference"`
	Display   string `json:"display,omitempty"`
}

// membershipChoice is one membership /auth/login offers to choose from.
type membershipChoice struct {
	ID      string    `json:"id"`
	Project reference `json:"project"`
	Profile reference `json:"profile"`
}

// profileRef is a membership's profile resource as a reference.
func profileRef(m models.ProjectAccess, u accounts.User) reference {
	r := reference{Display: u.Name()}
	if r.Display == "" {
		r.Display = u.Email
	}
	if m.Membership.ProfileID != nil {
		r.Reference = m.Membership.ProfileType + "/" + *m.Membership.ProfileID
	}
	return r
}

func projectRef(a models.ProjectAccess) reference {
	return reference{Reference: "Project/" + a.Project.ID, Display: a.Project.Name}
}

// Login answers POST /auth/login: the password is checked under the
// sign-in form's throttle, then the login starts with the program's PKCE
// challenge. With one membership to act as (the user's only one, or the
// one in the project the request or its client names) the answer is
// {login, code}; with several, {login, memberships} to choose from with
// /auth/profile.
func (h *Logins) Login(c echo.Context) error {
	var req loginRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	if req.ProjectID == "new" { // Medplum's registration: no project yet
		req.ProjectID = ""
	}
	if req.Scope == "" {
		req.Scope = defaultScope
	}
	n := logins.NewLogin{ProjectID: strings.TrimSpace(req.ProjectID), ClientID: strings.TrimSpace(req.ClientID),
		Scope: req.Scope, Nonce: req.Nonce, CodeChallenge: req.CodeChallenge, CodeChallengeMethod: req.CodeChallengeMethod,
		IP: c.RealIP()}
	fields := kit.FieldErrors(n.Validate())
	if fields == nil {
		fields = map[string]string{}
	}
	if strings.TrimSpace(req.Email) == "" {
		fields["email"] = "Missing email"
	}
	if req.Password == "" {
		fields["password"] = "Missing password"
	}
	if n.ProjectID != "" && !kit.IsUUID(n.ProjectID) {
		fields["projectId"] = "Invalid projectId"
	}
	if len(fields) > 0 {
		return invalidFields(c, fields)
	}
	if n.ClientID != "" {
		cl, err := h.Sys.ClientByID(ctx(c), n.ClientID)
		if errors.Is(err, kit.ErrNotFound) {
			return invalidFields(c, map[string]string{"clientId": "Invalid clientId: no such client"})
		}
		if err != nil {
			return err
		}
		if n.ProjectID != "" && n.ProjectID != cl.ProjectID {
			return invalidFields(c, map[string]string{"projectId": "Invalid projectId: the client belongs to another project"})
		}
		n.ProjectID = cl.ProjectID
	}

	u, wait, err := passwordSignIn(c, h.Sys, h.Log, req.Email, req.Password)
	switch {
	case wait > 0:
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return writeOutcome(c, http.StatusTooManyRequests, outcome("error", "throttled", "",
			"Too many sign-in attempts. Try again in "+humanWait(wait)+"."))
	case errors.Is(err, accounts.ErrBadCredentials):
		return invalid(c, "Email or password is invalid")
	case errors.Is(err, accounts.ErrDeactivated):
		return writeOutcome(c, http.StatusForbidden, outcome("error", "forbidden", "",
			"This account has been deactivated by the server's operator."))
	case err != nil:
		return err
	}
	list, err := projectsOf(c, h.Sys, u.ID)
	if err != nil {
		return err
	}
	if n.ProjectID != "" {
		list = slices.DeleteFunc(slices.Clone(list), func(a models.ProjectAccess) bool { return a.Project.ID != n.ProjectID })
	}
	if len(list) == 0 {
		msg := "You are not a member of any project: create one in the Enclave console, or accept an invitation to one."
		if n.ProjectID != "" {
			msg = "You are not an active member of the project this sign-in names."
		}
		return invalid(c, msg)
	}
	n.UserID = u.ID
	l, err := h.Sys.StartLogin(ctx(c), n)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "program sign-in started", "user", u.ID, "login", l.ID, "client", n.ClientID)
	if len(list) == 1 {
		return h.answerCode(c, l, list[0])
	}
	choices := make([]membershipChoice, len(list))
	for i, a := range list {
		choices[i] = membershipChoice{ID: a.Membership.ID, Project: projectRef(a), Profile: profileRef(a, u)}
	}
	return writeJSON(c, http.StatusOK, map[string]any{"login": l.ID, "memberships": choices})
}

// answerCode gives the login its membership and answers its one-time code.
func (h *Logins) answerCode(c echo.Context, l logins.Login, a models.ProjectAccess) error {
	code, err := h.Sys.IssueLoginCode(ctx(c), l.ID, a.Project.ID, a.Membership.ID)
	if errors.Is(err, logins.ErrNotPending) {
		return invalidFields(c, map[string]string{"login": "Invalid login: unknown, expired, or its profile is already chosen"})
	}
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]string{"login": l.ID, "code": code})
}

// profileRequest is the body of POST /auth/profile.
type profileRequest struct {
	Login   string `json:"login"`
	Profile string `json:"profile"`
}

// Profile answers POST /auth/profile: a pending login chooses one of its
// user's memberships (by the membership's id) and gets its code.
func (h *Logins) Profile(c echo.Context) error {
	var req profileRequest
	if err := readJSON(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if req.Login == "" {
		fields["login"] = "Missing login"
	}
	if req.Profile == "" {
		fields["profile"] = "Missing profile"
	}
	if len(fields) > 0 {
		return invalidFields(c, fields)
	}
	l, err := h.Sys.PendingLogin(ctx(c), req.Login)
	if errors.Is(err, logins.ErrNotPending) {
		return invalidFields(c, map[string]string{"login": "Invalid login: unknown, expired, or its profile is already chosen"})
	}
	if err != nil {
		return err
	}
	list, err := projectsOf(c, h.Sys, l.UserID)
	if err != nil {
		return err
	}
	for _, a := range list {
		if a.Membership.ID == req.Profile && (l.ProjectID == nil || *l.ProjectID == a.Project.ID) {
			return h.answerCode(c, l, a)
		}
	}
	return invalidFields(c, map[string]string{"profile": "Invalid profile: not an active membership of this login's user"})
}

// Me answers GET /auth/me: who the request acts as, in the shape Medplum's
// SDK keeps after sign-in (user, project, membership, profile, config,
// accessPolicy).
func (h *Logins) Me(c echo.Context, sc models.Scope) error {
	p, m := sc.Project(), sc.Membership()
	out := map[string]any{
		"project": map[string]any{"resourceType": "Project", "id": p.ID, "name": p.Name, "description": p.Description,
			"strictMode": p.StrictMode, "superAdmin": p.SuperAdmin},
		"config":       map[string]any{"resourceType": "UserConfiguration"},
		"accessPolicy": accessPolicyJSON(sc),
	}
	membership := map[string]any{"resourceType": "ProjectMembership", "project": reference{Reference: "Project/" + p.ID},
		"admin": m.Admin}
	if cl, ok := sc.Client(); ok {
		membership["profile"] = reference{Reference: "ClientApplication/" + cl.ID, Display: cl.Name}
		out["profile"] = map[string]any{"resourceType": "ClientApplication", "id": cl.ID, "name": cl.Name}
		out["membership"] = membership
		return writeJSON(c, http.StatusOK, out)
	}
	u := sc.User()
	out["user"] = map[string]any{"resourceType": "User", "id": u.ID, "email": u.Email, "firstName": u.FirstName,
		"lastName": u.LastName, "emailVerified": u.Verified()}
	membership["id"] = m.ID
	membership["user"] = reference{Reference: "User/" + u.ID, Display: u.Email}
	if m.AccessPolicyID != nil {
		membership["accessPolicy"] = reference{Reference: "AccessPolicy/" + *m.AccessPolicyID}
	}
	prof, err := sc.Profile(ctx(c))
	switch {
	case err == nil:
		membership["profile"] = reference{Reference: prof.Type + "/" + prof.ID, Display: u.Name()}
		out["profile"] = json.RawMessage(prof.JSON)
	case errors.Is(err, kit.ErrNotFound):
		// A membership from before profiles: the user stands in.
		out["profile"] = map[string]any{"resourceType": "Practitioner", "id": m.ID}
	default:
		return err
	}
	out["membership"] = membership
	return writeJSON(c, http.StatusOK, out)
}

// accessPolicyJSON is the member's access policy as a FHIR AccessPolicy:
// one entry per rule, or every type ("*") when they have none.
func accessPolicyJSON(sc models.Scope) map[string]any {
	pol := sc.Policy()
	if pol == nil {
		return map[string]any{"resourceType": "AccessPolicy", "resource": []map[string]any{{"resourceType": "*"}}}
	}
	rules := make([]map[string]any, len(pol.Rules))
	for i, r := range pol.Rules {
		rule := map[string]any{"resourceType": r.ResourceType}
		if r.ReadOnly {
			rule["readonly"] = true
		}
		if r.Criteria != "" {
			rule["criteria"] = r.Criteria
		}
		if len(r.HiddenFields) > 0 {
			rule["hiddenFields"] = r.HiddenFields
		}
		rules[i] = rule
	}
	return map[string]any{"resourceType": "AccessPolicy", "id": pol.ID, "name": pol.Name, "resource": rules}
}

// loginOf is the login of the user's access token a scope was entered
// with; a 401 for a session or an API client's token.
func loginOf(c echo.Context, sc models.Scope) (string, error) {
	if id := sc.LoginID(); id != "" {
		return id, nil
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
	return "", echo.NewHTTPError(http.StatusUnauthorized, fmt.Sprintf("Send a user's access token (Authorization: Bearer) from %s", "/oauth2/token"))
}
