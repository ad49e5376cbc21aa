package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"enclave/models"
	"enclave/models/accounts"
	"enclave/models/audit"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/a-h/templ"

	"github.com/labstack/echo/v4"
)

// Sessions is what the handlers need of the web layer's session handling.
type Sessions interface {
	// SignIn starts a fresh session (new id) for userID.
	SignIn(c echo.Context, userID string) error
	// SignOut ends the session on the server and clears the cookie.
	SignOut(c echo.Context) error
	// Token is the request's session token, "" when it has no session.
	Token(c echo.Context) string
}

// Auth serves registration, sign-in and sign-out.
type Auth struct {
	Sys      Accounts
	Sessions Sessions
	// Postman delivers the verification link of a new account.
	Postman Postman
	Log     *slog.Logger
}

// RegisterPage shows step 1 of registration.
func (h *Auth) RegisterPage(c echo.Context) error {
	if _, ok := CurrentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, paths.NewProject.URL())
	}
	p, err := pageFor(c, h.Sys, "Register")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RegisterPage(p, forms.Register{}, forms.Errors{}))
}

// Register creates the account, signs the user in and moves on to step 2.
// A signed-in user (a second tab, a replayed form) keeps their session and
// goes to step 2 as on the form's page: the form never switches accounts.
func (h *Auth) Register(c echo.Context) error {
	if _, ok := CurrentUser(c); ok {
		return c.Redirect(http.StatusSeeOther, paths.NewProject.URL())
	}
	if err := registrationAttempt(c, h.Sys); err != nil {
		return err
	}
	var f forms.Register
	var u accounts.User
	errs, err := submit(c, &f, func() (err error) {
		u, err = h.Sys.CreateUser(ctx(c), accounts.NewUser{FirstName: f.FirstName, LastName: f.LastName, Email: f.Email, Password: f.Password})
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		p, err := pageFor(c, h.Sys, "Register")
		if err != nil {
			return err
		}
		return renderForm(c, http.StatusUnprocessableEntity, views.RegisterPage(p, f, errs), views.RegisterForm(p.CSRF, f, errs))
	}
	h.Log.InfoContext(ctx(c), "user registered", "user", u.ID)
	if _, err := sendVerification(c, h.Sys, h.Postman, u, u.Email); err != nil {
		return err
	}
	if err := h.Sessions.SignIn(c, u.ID); err != nil {
		return err
	}
	return redirect(c, paths.FirstProject.URL())
}

// registrationAttempt counts a registration from the client's address and
// refuses it with 429 when too many came from there (see
// accounts.RegisterPerAddress): the console's and a project's patient
// registration count together.
func registrationAttempt(c echo.Context, t Throttle) error {
	wait, err := t.Attempt(ctx(c), "register-ip:"+c.RealIP(), accounts.RegisterPerAddress)
	if err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many registrations from your address. Try again in "+humanWait(wait)+".")
	}
	return nil
}

// firstProjectTitle is the title of registration's step 2.
const firstProjectTitle = "Name your first project"

// FirstProjectPage shows step 2 of registration.
func (h *Auth) FirstProjectPage(c echo.Context) error {
	p, err := pageFor(c, h.Sys, firstProjectTitle)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.NewProjectStepPage(p, forms.Project{Token: models.NewFormToken()}, forms.Errors{}))
}

// FirstProject creates the registering user's first project.
func (h *Auth) FirstProject(c echo.Context) error {
	return createProject(c, h.Sys, firstProjectTitle, func(p views.Page, f forms.Project, errs forms.Errors) (page, fragment templ.Component) {
		return views.NewProjectStepPage(p, f, errs), views.ProjectForm(p.CSRF, paths.FirstProject.URL(), "Create project", f, errs)
	})
}

// SignInPage shows the sign-in form.
func (h *Auth) SignInPage(c echo.Context) error {
	if _, ok := CurrentUser(c); ok {
		return h.land(c, "")
	}
	var f forms.SignIn
	if _, err := bindForm(c, &f); err != nil {
		return err
	}
	f.Next = safeNext(f.Next)
	p, err := pageFor(c, h.Sys, "Sign in")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.SignInPage(p, f, forms.Errors{}))
}

// SignIn checks the credentials (passwordSignIn, throttled), starts a new
// session and lands the user.
func (h *Auth) SignIn(c echo.Context) error {
	var f forms.SignIn
	if _, err := bindForm(c, &f); err != nil {
		return err
	}
	f.Next = safeNext(f.Next)
	u, wait, err := passwordSignIn(c, h.Sys, h.Log, f.Email, f.Password)
	switch {
	case wait > 0:
		return h.tooSoon(c, wait, f)
	case errors.Is(err, accounts.ErrBadCredentials):
		return h.signInRefused(c, http.StatusUnauthorized, "Email or password is incorrect.", f)
	case errors.Is(err, accounts.ErrDeactivated):
		h.Log.InfoContext(ctx(c), "sign-in refused: account deactivated", "ip", c.RealIP())
		return h.signInRefused(c, http.StatusForbidden,
			"This account has been deactivated by the server's operator. Ask them if you think it should not be.", f)
	case err != nil:
		return err
	}
	if err := h.Sessions.SignIn(c, u.ID); err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "signed in", "user", u.ID)
	SetUser(c, u)
	return h.land(c, f.Next)
}

// passwordChecker is what a sign-in with a password needs.
type passwordChecker interface {
	Throttle
	Authenticate(ctx context.Context, email, password string) (accounts.User, error)
	UserByEmail(ctx context.Context, email string) (accounts.User, error)
	RecordSignIn(ctx context.Context, a audit.Actor, ok bool) error
}

// passwordSignIn checks an email and password, for the console's form and
// for programs (/auth/login) alike. Every attempt is counted before the
// password is checked, per account and client address and per address
// alone (see accounts.SignInPerAccount), so guesses slow down without
// locking the account's owner out elsewhere; wait > 0 refuses one that
// came too soon. A wrong password is accounts.ErrBadCredentials. Both
// outcomes are recorded in the audit log.
func passwordSignIn(c echo.Context, sys passwordChecker, log *slog.Logger, email, password string) (accounts.User, time.Duration, error) {
	email, ip := accounts.NormalizeEmail(email), c.RealIP()
	accountKey, addressKey := "signin:"+email+"|"+ip, "signin-ip:"+ip
	wait, err := signInAttempt(c, sys, accountKey, addressKey)
	if err != nil || wait > 0 {
		if wait > 0 {
			log.WarnContext(ctx(c), "sign-in refused: too many attempts", "ip", ip)
		}
		return accounts.User{}, wait, err
	}
	u, err := sys.Authenticate(ctx(c), email, password)
	if errors.Is(err, accounts.ErrBadCredentials) {
		log.InfoContext(ctx(c), "sign-in failed", "ip", ip)
		actor := audit.Actor{Email: email, IP: ip}
		if known, kerr := sys.UserByEmail(ctx(c), actor.Email); kerr == nil {
			actor.UserID = known.ID
		}
		if rerr := sys.RecordSignIn(ctx(c), actor, false); rerr != nil {
			return u, 0, rerr
		}
		return u, 0, err
	}
	if err != nil {
		return u, 0, err
	}
	if err := sys.ResetAttempts(ctx(c), accountKey); err != nil {
		return u, 0, err
	}
	if err := sys.RefundAttempt(ctx(c), addressKey); err != nil {
		return u, 0, err
	}
	return u, 0, sys.RecordSignIn(ctx(c), actorOf(c, u), true)
}

// signInRefused shows the sign-in form f again, as it was sent but for the
// password, with why it failed.
func (h *Auth) signInRefused(c echo.Context, status int, msg string, f forms.SignIn) error {
	p, err := pageFor(c, h.Sys, "Sign in")
	if err != nil {
		return err
	}
	errs := forms.Errors{Form: msg}
	return renderForm(c, status, views.SignInPage(p, f, errs), views.SignInForm(p.CSRF, f, errs))
}

// signInAttempt counts a sign-in attempt (with a password or a client
// secret) under the rules of the sign-in form: per account (or client) and
// address, and per address alone. It says how long to wait when the attempt
// comes too soon.
func signInAttempt(c echo.Context, t Throttle, accountKey, addressKey string) (time.Duration, error) {
	for _, k := range []struct {
		key  string
		rule accounts.ThrottleRule
	}{{accountKey, accounts.SignInPerAccount}, {addressKey, accounts.SignInPerAddress}} {
		wait, err := t.Attempt(ctx(c), k.key, k.rule)
		if err != nil || wait > 0 {
			return wait, err
		}
	}
	return 0, nil
}

// land sends a signed-in user where they belong: the page they asked for,
// their only project, the project chooser, or project creation.
func (h *Auth) land(c echo.Context, next string) error {
	u, _ := CurrentUser(c)
	if u.MustChangePassword {
		return redirect(c, paths.ChoosePassword.URL())
	}
	if next != "" {
		return redirect(c, next)
	}
	list, err := projectsOf(c, h.Sys, u.ID)
	if err != nil {
		return err
	}
	invited, err := h.Sys.InvitationsFor(ctx(c), u)
	if err != nil {
		return err
	}
	switch {
	case len(invited) > 0:
		return redirect(c, paths.Projects.URL()) // where the invitations are
	case len(list) == 0:
		return redirect(c, paths.NewProject.URL())
	case len(list) == 1:
		return redirect(c, paths.Project.URL(list[0].Project.ID))
	default:
		return redirect(c, paths.Projects.URL())
	}
}

// SignOut ends the session.
func (h *Auth) SignOut(c echo.Context) error {
	if err := h.Sessions.SignOut(c); err != nil {
		return err
	}
	return redirect(c, paths.SignIn.URL())
}

// Root sends visitors to sign-in and members to their projects.
func (h *Auth) Root(c echo.Context) error {
	if _, ok := CurrentUser(c); !ok {
		return c.Redirect(http.StatusSeeOther, paths.SignIn.URL())
	}
	return h.land(c, "")
}

// tooSoon refuses a sign-in attempt that came before its wait was over.
func (h *Auth) tooSoon(c echo.Context, wait time.Duration, f forms.SignIn) error {
	c.Response().Header().Set("Retry-After", retryAfter(wait))
	return h.signInRefused(c, http.StatusTooManyRequests, "Too many sign-in attempts. Try again in "+humanWait(wait)+".", f)
}

// retryAfter is a Retry-After header value: whole seconds, at least one.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second-1)/time.Second)))
}

// humanWait says a wait in words.
func humanWait(d time.Duration) string {
	switch s := max(1, int((d+time.Second-1)/time.Second)); {
	case s == 1:
		return "a second"
	case s < 120:
		return strconv.Itoa(s) + " seconds"
	default:
		return strconv.Itoa((s+59)/60) + " minutes"
	}
}
