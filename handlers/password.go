package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/views"
	"enclave/views/forms"
	"enclave/views/paths"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Passwords serves "forgot password": a one-time link sent to the account's
// address (or written to the server log when no mail server is configured)
// and the page it opens, where the person chooses a new password.
type Passwords struct {
	Sys      Accounts
	Sessions Sessions
	Postman  Postman
	Log      *slog.Logger
}

// linkWorkTimeout bounds issuing and queuing a reset link, which goes on
// after the answer has been sent (see Forgot).
const linkWorkTimeout = time.Minute

// ForgotPage asks for the account's email address.
func (h *Passwords) ForgotPage(c echo.Context) error {
	p, err := pageFor(c, h.Sys, "Reset your password")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ForgotPage(p, views.ForgotVM{}))
}

// Forgot takes a request for a reset link. The answer is the same whether
// or not an account uses the address, and it goes out before the address is
// even looked up: neither its words nor its timing (issuing and queuing a
// link writes to the database, an unknown address only reads) tell who has
// an account. The link is issued and queued after that (the outbox's sender
// mails it), and what becomes of it only reaches the log.
func (h *Passwords) Forgot(c echo.Context) error {
	var f forms.Forgot
	errs, err := bindForm(c, &f)
	if err != nil {
		return err
	}
	email := accounts.NormalizeEmail(f.Email)
	if errs.Add("email", accounts.EmailProblem(email)); errs.Any() {
		return h.forgotForm(c, http.StatusUnprocessableEntity, f, errs)
	}
	for _, k := range []struct {
		key  string
		rule accounts.ThrottleRule
	}{{"reset-ip:" + c.RealIP(), accounts.ResetPerAddress}, {"reset:" + email, accounts.ResetPerEmail}} {
		wait, err := h.Sys.Attempt(ctx(c), k.key, k.rule)
		if err != nil {
			return err
		}
		if wait > 0 {
			c.Response().Header().Set("Retry-After", retryAfter(wait))
			return h.forgotForm(c, http.StatusTooManyRequests, f,
				forms.Errors{Form: "Too many reset links asked for. Try again in " + humanWait(wait) + "."})
		}
	}
	p, err := pageFor(c, h.Sys, "Reset your password")
	if err != nil {
		return err
	}
	vm := views.ForgotVM{Sent: true, Email: email, NoMail: h.Postman.Outbox == nil}
	answer := views.ForgotPage(p, vm)
	if IsHTMX(c) {
		answer = views.ForgotPanel(p.CSRF, vm)
	}
	if err := answerNow(c, http.StatusOK, answer); err != nil {
		return err
	}
	// The client has its answer and may hang up: the work must not stop
	// when it does.
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx(c)), linkWorkTimeout)
	defer cancel()
	c.SetRequest(c.Request().WithContext(work))
	if err := h.sendLink(c, email); err != nil {
		h.Log.ErrorContext(ctx(c), "password-reset link not sent", "err", err)
	}
	return nil
}

// sendLink issues a reset link for the account that uses email, if one
// does, and delivers it (queued with the link when there is a mail server).
func (h *Passwords) sendLink(c echo.Context, email string) error {
	u, err := h.Sys.UserByEmail(ctx(c), email)
	if errors.Is(err, kit.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	token, _, err := h.Sys.IssueAccountToken(ctx(c), u.ID, accounts.PurposeReset, u.Email, h.Postman.Letter(func(token string, expires time.Time) mail.Message {
		body := fmt.Sprintf("Hello %s,\n\nSomeone, hopefully you, asked to reset the password of your Enclave account %s. "+
			"Open this link to choose a new one:\n\n%s\n\n"+
			"The link works once, until %s. If you did not ask for it, ignore this email: your password stays as it is.\n",
			u.FirstName, u.Email, resetLink(c, token), when(expires))
		return mail.Message{Subject: "Reset your Enclave password", Body: body, Purpose: purposeReset}
	}))
	if kit.FieldErrors(err) != nil {
		// Another request issued a link at the same moment; that one goes.
		return nil
	}
	if err != nil {
		return err
	}
	h.Postman.Deliver(u.Email, resetLink(c, token), purposeReset)
	return nil
}

// purposeReset names password-reset links in the logs.
const purposeReset = "password-reset"

func resetLink(c echo.Context, token string) string { return Origin(c) + paths.Reset.URL(token) }

// ResetPage shows the new-password form a reset link opens, or why the
// link does not work.
func (h *Passwords) ResetPage(c echo.Context) error {
	keepTokenPrivate(c)
	_, email, err := h.Sys.PeekAccountToken(ctx(c), c.Param("token"), accounts.PurposeReset)
	if err != nil {
		return h.gone(c, err)
	}
	return h.resetForm(c, http.StatusOK, email, forms.Errors{})
}

// Reset uses the link: the account gets the new password, every one of its
// sessions ends, and the person is signed in here.
func (h *Passwords) Reset(c echo.Context) error {
	keepTokenPrivate(c)
	token := c.Param("token")
	var f forms.Reset
	var u accounts.User
	errs, err := submit(c, &f, func() (err error) {
		u, err = h.Sys.ResetPassword(ctx(c), token, accounts.NewPassword{Password: f.Password, Confirm: f.Confirm})
		return err
	})
	if err != nil {
		return h.gone(c, err)
	}
	if errs.Any() {
		_, email, err := h.Sys.PeekAccountToken(ctx(c), token, accounts.PurposeReset)
		if err != nil {
			return h.gone(c, err)
		}
		return h.resetForm(c, http.StatusUnprocessableEntity, email, errs)
	}
	h.Log.InfoContext(ctx(c), "password reset by link", "user", u.ID)
	if err := h.Sessions.SignIn(c, u.ID); err != nil {
		return err
	}
	if err := h.Sys.RecordSignIn(ctx(c), actorOf(c, u), true); err != nil {
		return err
	}
	return redirect(c, paths.Root.URL())
}

func (h *Passwords) forgotForm(c echo.Context, status int, f forms.Forgot, errs forms.Errors) error {
	p, err := pageFor(c, h.Sys, "Reset your password")
	if err != nil {
		return err
	}
	vm := views.ForgotVM{Form: f, Errors: errs}
	return renderForm(c, status, views.ForgotPage(p, vm), views.ForgotPanel(p.CSRF, vm))
}

func (h *Passwords) resetForm(c echo.Context, status int, email string, errs forms.Errors) error {
	p, err := pageFor(c, h.Sys, "Choose a new password")
	if err != nil {
		return err
	}
	vm := views.ResetVM{Action: paths.Reset.URL(c.Param("token")), Email: email, Errors: errs}
	return renderForm(c, status, views.ResetPage(p, vm), views.ResetForm(p.CSRF, vm))
}

// gone explains a reset link that is unknown, used, replaced or expired,
// all alike. htmx, which would not show the page, is sent to the link's
// own page, which does.
func (h *Passwords) gone(c echo.Context, err error) error {
	if !errors.Is(err, accounts.ErrLinkInvalid) {
		return err
	}
	if IsHTMX(c) && c.Request().Method == http.MethodPost {
		return redirect(c, c.Request().URL.EscapedPath())
	}
	p, perr := pageFor(c, h.Sys, "Link no longer works")
	if perr != nil {
		return perr
	}
	return render(c, http.StatusGone, views.ResetGonePage(p))
}

// keepTokenPrivate keeps a page whose address holds a one-time token out
// of caches and out of the Referer of anything it links to or loads.
func keepTokenPrivate(c echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
}

// answerNow sends comp as the whole answer, with its length, and flushes
// it, so that the client has it while the handler goes on working.
func answerNow(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(ctx(c), &buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	if _, err := c.Response().Write(buf.Bytes()); err != nil {
		return err
	}
	// A writer that cannot flush sends the answer when the handler returns.
	_ = http.NewResponseController(c.Response().Writer).Flush()
	return nil
}
