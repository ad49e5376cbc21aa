package handlers

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Account serves the signed-in user's own account page: their name, email
// address, password and sessions. Every change is to the caller's own
// account; nothing here takes a user id from the request.
type Account struct {
	Sys      Accounts
	Sessions Sessions
	Postman  Postman
	Log      *slog.Logger
}

// accountTitle is the account page's title.
const accountTitle = "Your account"

// emailPasswordField is the email form's password input (see forms.Email).
// The store calls it "current", like the password form's; on one page the
// two need their own names, ids and errors.
const emailPasswordField = "emailPassword"

// Page shows the account page.
func (h *Account) Page(c echo.Context) error {
	return h.page(c, http.StatusOK, views.AccountVM{})
}

// page answers with the account page, or its panel for htmx, carrying vm's
// forms and notices; what the account is now fills in the rest, the name
// form too unless it comes back with errors.
func (h *Account) page(c echo.Context, status int, vm views.AccountVM) error {
	u, _ := CurrentUser(c)
	vm.Email, vm.Verified = u.Email, u.Verified()
	if !vm.NameErrors.Any() {
		vm.Name = forms.Name{FirstName: u.FirstName, LastName: u.LastName}
	}
	list, err := h.Sys.UserSessions(ctx(c), u.ID, h.Sessions.Token(c))
	if err != nil {
		return err
	}
	at := time.Now()
	vm.Sessions = make([]views.SessionRowVM, len(list))
	for i, s := range list {
		vm.Sessions[i] = sessionRowVM(s, at)
	}
	p, err := pageFor(c, h.Sys, accountTitle)
	if err != nil {
		return err
	}
	return renderForm(c, status, views.AccountPage(p, vm), views.AccountPanel(p, vm))
}

// SaveName changes the user's first and last name.
func (h *Account) SaveName(c echo.Context) error {
	u, _ := CurrentUser(c)
	var f forms.Name
	var renamed accounts.User
	errs, err := submit(c, &f, func() (err error) {
		renamed, err = h.Sys.UpdateName(ctx(c), u.ID, f.FirstName, f.LastName)
		return err
	})
	if err != nil {
		return err
	}
	if errs.Any() {
		return h.page(c, http.StatusUnprocessableEntity, views.AccountVM{Name: f, NameErrors: errs})
	}
	SetUser(c, renamed)
	return h.page(c, http.StatusOK, views.AccountVM{NameNotice: "Your name is now " + renamed.Name() + "."})
}

// ChangeEmail sends a verification link to the new address. The account's
// email changes only when that link is opened, so a typo cannot lock anyone
// out, and nobody can take an address they do not receive mail at.
func (h *Account) ChangeEmail(c echo.Context) error {
	u, _ := CurrentUser(c)
	var f forms.Email
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	wait, err := h.passwordAttempt(c, u)
	if err != nil {
		return err
	}
	if wait > 0 {
		return h.page(c, http.StatusTooManyRequests, views.AccountVM{EmailForm: f, EmailErrors: h.tooSoon(c, u, wait)})
	}
	// Links share their budget with Verify.Resend: knowing the password
	// does not make the server a way to fill someone's inbox.
	linksKey := "verify:" + u.ID
	if wait, err = h.Sys.Attempt(ctx(c), linksKey, accounts.VerifyLinksPerAccount); err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return h.page(c, http.StatusTooManyRequests, views.AccountVM{EmailForm: f,
			EmailErrors: forms.Errors{Form: "You asked for several links already. Try again in " + humanWait(wait) + "."}})
	}
	to := accounts.NormalizeEmail(f.Email)
	token, err := h.Sys.RequestEmailChange(ctx(c), u.ID, f.Password, to, verificationLetter(c, h.Postman, u, to))
	if fields := kit.FieldErrors(err); fields != nil {
		if err := h.Sys.RefundAttempt(ctx(c), linksKey); err != nil {
			return err
		}
		if err := h.passwordChecked(c, u, fields); err != nil {
			return err
		}
		errs.Merge(moveError(fields, "current", emailPasswordField))
		return h.page(c, http.StatusUnprocessableEntity, views.AccountVM{EmailForm: f, EmailErrors: errs})
	}
	if err != nil {
		return err
	}
	if err := h.passwordChecked(c, u, nil); err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "email change requested", "user", u.ID)
	var vm views.AccountVM
	switch h.Postman.Deliver(to, verifyLink(c, token), purposeVerification) {
	case Queued:
		vm.EmailSent = views.Delivery{Kind: views.DeliveryQueued,
			Text: "We are sending a link to " + to + "; your address changes when you open it."}
	case Logged:
		vm.EmailSent = views.Delivery{Kind: views.DeliveryLogged,
			Text: "No mail server is configured: the server's operator finds the link for " + to +
				" in the server log. Your address changes when you open it."}
	}
	return h.page(c, http.StatusOK, vm)
}

// ChangePassword replaces the user's password and signs out every other
// session of the account; this one stays signed in.
func (h *Account) ChangePassword(c echo.Context) error {
	u, _ := CurrentUser(c)
	status, errs, err := h.replacePassword(c, u)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return h.page(c, status, views.AccountVM{PasswordErrors: errs})
	}
	h.Log.InfoContext(ctx(c), "password changed; other sessions ended", "user", u.ID)
	return h.page(c, http.StatusOK, views.AccountVM{PasswordNotice: "Password changed. Every other session of your account was signed out."})
}

// replacePassword reads the password form and, unless it comes too soon
// after wrong passwords, changes u's password, ending their other sessions.
// status is 200 when it went through, else the status to answer with errs.
func (h *Account) replacePassword(c echo.Context, u accounts.User) (int, forms.Errors, error) {
	var f forms.Password
	errs, err := bindForm(c, &f)
	if err != nil {
		return 0, errs, err
	}
	wait, err := h.passwordAttempt(c, u)
	if err != nil {
		return 0, errs, err
	}
	if wait > 0 {
		return http.StatusTooManyRequests, h.tooSoon(c, u, wait), nil
	}
	pw := accounts.NewPassword{Password: f.Password, Confirm: f.Confirm}
	err = h.Sys.ChangePassword(ctx(c), u.ID, f.Current, pw, h.Sessions.Token(c))
	if fields := kit.FieldErrors(err); fields != nil {
		if err := h.passwordChecked(c, u, fields); err != nil {
			return 0, errs, err
		}
		errs.Merge(fields)
		return http.StatusUnprocessableEntity, errs, nil
	}
	if err != nil {
		return 0, errs, err
	}
	return http.StatusOK, errs, h.passwordChecked(c, u, nil)
}

// ChoosePasswordPage asks an account with a temporary password for a new
// one; any other account has nothing to do here.
func (h *Account) ChoosePasswordPage(c echo.Context) error {
	u, _ := CurrentUser(c)
	if !u.MustChangePassword {
		return c.Redirect(http.StatusSeeOther, paths.Account.URL())
	}
	return h.choosePage(c, http.StatusOK, forms.Errors{})
}

// ChoosePassword replaces a temporary password with one the person chose,
// as ChangePassword does, and lands them where they would have gone.
func (h *Account) ChoosePassword(c echo.Context) error {
	u, _ := CurrentUser(c)
	if !u.MustChangePassword {
		return redirect(c, paths.Account.URL())
	}
	status, errs, err := h.replacePassword(c, u)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return h.choosePage(c, status, errs)
	}
	h.Log.InfoContext(ctx(c), "temporary password replaced", "user", u.ID)
	return redirect(c, paths.Root.URL())
}

func (h *Account) choosePage(c echo.Context, status int, errs forms.Errors) error {
	p, err := pageFor(c, h.Sys, "Choose a new password")
	if err != nil {
		return err
	}
	return render(c, status, views.ChoosePasswordPage(p, errs))
}

// EndSession signs out one of the user's sessions. Ending the current one
// is signing out.
func (h *Account) EndSession(c echo.Context) error {
	u, _ := CurrentUser(c)
	id := c.Param("session")
	list, err := h.Sys.UserSessions(ctx(c), u.ID, h.Sessions.Token(c))
	if err != nil {
		return err
	}
	var ended *accounts.SessionInfo
	for i := range list {
		if list[i].ID == id {
			ended = &list[i]
		}
	}
	if ended == nil {
		return kit.ErrNotFound
	}
	if ended.Current {
		if err := h.Sessions.SignOut(c); err != nil {
			return err
		}
		return redirect(c, paths.SignIn.URL())
	}
	if err := h.Sys.EndUserSession(ctx(c), u.ID, id); err != nil {
		return err
	}
	h.Log.InfoContext(ctx(c), "session signed out from the account page", "user", u.ID)
	if IsHTMX(c) {
		return h.page(c, http.StatusOK, views.AccountVM{SessionsNotice: "Signed out " + describeDevice(ended.UserAgent) + "."})
	}
	return redirect(c, paths.Account.URL())
}

// passwordKey is the throttle key of the guesses at a user's current
// password on this page: a stolen session must not be a way to try
// passwords without limit.
func passwordKey(u accounts.User) string { return "account-password:" + u.ID }

// passwordAttempt counts an attempt at the current password before it is
// checked, and says how long to wait when it comes too soon.
func (h *Account) passwordAttempt(c echo.Context, u accounts.User) (time.Duration, error) {
	return h.Sys.Attempt(ctx(c), passwordKey(u), accounts.SignInPerAccount)
}

// tooSoon refuses a change for coming too soon after wrong passwords: the
// form's errors say so.
func (h *Account) tooSoon(c echo.Context, u accounts.User, wait time.Duration) forms.Errors {
	h.Log.WarnContext(ctx(c), "account change refused: too many wrong passwords", "user", u.ID, "ip", c.RealIP())
	c.Response().Header().Set("Retry-After", retryAfter(wait))
	return forms.Errors{Form: "Too many wrong passwords. Try again in " + humanWait(wait) + "."}
}

// passwordChecked forgets the counted attempts once the current password
// proved right: fields are the change's field errors, nil when it went
// through.
func (h *Account) passwordChecked(c echo.Context, u accounts.User, fields map[string]string) error {
	if _, wrong := fields["current"]; wrong {
		return nil
	}
	return h.Sys.ResetAttempts(ctx(c), passwordKey(u))
}

// moveError copies field errors, with the error of field from under to.
func moveError(fields map[string]string, from, to string) map[string]string {
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		if k == from {
			k = to
		}
		out[k] = v
	}
	return out
}

func sessionRowVM(s accounts.SessionInfo, at time.Time) views.SessionRowVM {
	return views.SessionRowVM{ID: s.ID, Device: describeDevice(s.UserAgent), UserAgent: s.UserAgent, IP: s.IP,
		SignedIn: s.CreatedAt.UTC().Format("2006-01-02"), LastSeen: ago(s.LastSeen, at),
		LastSeenAt: s.LastSeen.UTC().Format("2006-01-02 15:04 UTC"), Current: s.Current}
}

// ago says how long before at t was, in the largest whole unit.
func ago(t, at time.Time) string {
	d := at.Sub(t)
	unit := func(n int, name string) string {
		if n == 1 {
			return "1 " + name + " ago"
		}
		return strconv.Itoa(n) + " " + name + "s ago"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		return unit(int(d/time.Hour), "hour")
	default:
		return unit(int(d/(24*time.Hour)), "day")
	}
}

// maxRawDevice bounds the raw User-Agent shown when describeDevice does not
// recognise it.
const maxRawDevice = 60

// A uaMark is a token whose presence in a User-Agent names something. In a
// list the first mark present wins, so specific marks come before those
// they contain: Edge's "Edg/" before "Chrome/", "iPhone" before the "Mac OS
// X" in its "like Mac OS X".
type uaMark struct{ token, name string }

// uaTools are command-line clients and HTTP libraries: they start the
// User-Agent and are named alone.
var uaTools = []uaMark{
	{"curl/", "curl"}, {"Wget/", "Wget"}, {"HTTPie/", "HTTPie"}, {"PostmanRuntime/", "Postman"},
	{"python-requests/", "Python requests"}, {"python-httpx/", "Python httpx"}, {"Python-urllib/", "Python urllib"},
	{"Go-http-client/", "Go HTTP client"}, {"okhttp/", "OkHttp"}, {"axios/", "axios"}, {"node-fetch", "node-fetch"},
}

var uaBrowsers = []uaMark{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"OPR/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"}, {"Vivaldi/", "Vivaldi"}, {"FxiOS/", "Firefox"}, {"Firefox/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	{"Trident/", "Internet Explorer"}, {"MSIE ", "Internet Explorer"},
}

var uaSystems = []uaMark{
	{"Windows", "Windows"}, {"iPhone", "iOS"}, {"iPod", "iOS"}, {"iPad", "iPadOS"}, {"Android", "Android"},
	{"CrOS", "ChromeOS"}, {"Macintosh", "macOS"}, {"Mac OS X", "macOS"}, {"Linux", "Linux"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

// describeDevice says in a few words what sent a User-Agent, like "Firefox
// on macOS" or "curl", so that people recognise their own sessions. What it
// does not recognise it shows as sent, shortened.
func describeDevice(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return "Unknown device"
	}
	for _, m := range uaTools {
		if strings.HasPrefix(ua, m.token) {
			return m.name
		}
	}
	browser, system := firstMark(ua, uaBrowsers), firstMark(ua, uaSystems)
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "":
		return browser
	}
	return shorten(ua, maxRawDevice)
}

func firstMark(ua string, marks []uaMark) string {
	for _, m := range marks {
		if strings.Contains(ua, m.token) {
			return m.name
		}
	}
	return ""
}

// shorten cuts s to at most n characters, the last an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}
