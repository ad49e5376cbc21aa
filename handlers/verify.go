package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"enclave/models/accounts"
	"enclave/models/kit"
	"enclave/models/mail"
	"enclave/views"
	"enclave/views/paths"

	"github.com/labstack/echo/v4"
)

// Verify serves email verification: the page a verification link opens,
// its confirmation, and sending a new link.
type Verify struct {
	Sys     Accounts
	Postman Postman
}

// Page asks to confirm the address; opening the link alone changes
// nothing, so a mail scanner that follows links does not use it up.
func (h *Verify) Page(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	_, email, err := h.Sys.PeekAccountToken(ctx(c), c.Param("token"), accounts.PurposeVerify)
	if err != nil {
		return h.invalid(c, err)
	}
	p, err := pageFor(c, h.Sys, "Verify your email")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.VerifyEmailPage(p, views.VerifyEmailVM{Email: email, Action: paths.Verify.URL(c.Param("token"))}))
}

// Confirm uses the link: the account's email becomes the address, verified.
func (h *Verify) Confirm(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	u, err := h.Sys.VerifyEmail(ctx(c), c.Param("token"))
	if fe := kit.FieldErrors(err); fe != nil {
		return h.message(c, http.StatusConflict, "Not verified", fe["email"]+" Ask for a link to another address on your account page.")
	}
	if err != nil {
		return h.invalid(c, err)
	}
	return h.message(c, http.StatusOK, "Email verified",
		fmt.Sprintf("%s is now the verified email address of your account. Invitations to it appear after you sign in.", u.Email))
}

// Resend sends the signed-in user a new verification link for their
// address (the previous one stops working).
func (h *Verify) Resend(c echo.Context) error {
	u, _ := CurrentUser(c)
	if u.Verified() {
		return redirect(c, paths.Projects.URL())
	}
	wait, err := h.Sys.Attempt(ctx(c), "verify:"+u.ID, accounts.VerifyLinksPerAccount)
	if err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		return h.message(c, http.StatusTooManyRequests, "Too many links", "You asked for several links already. Try again in "+humanWait(wait)+".")
	}
	d, err := sendVerification(c, h.Sys, h.Postman, u, u.Email)
	if err != nil {
		return err
	}
	return h.message(c, http.StatusOK, "Verification link sent", deliveryMessage(d, u.Email))
}

// sendVerification issues a verification link for email and delivers it.
func sendVerification(c echo.Context, sys Accounts, p Postman, u accounts.User, email string) (Delivery, error) {
	token, _, err := sys.IssueAccountToken(ctx(c), u.ID, accounts.PurposeVerify, email, verificationLetter(c, p, u, email))
	if err != nil {
		return 0, err
	}
	return p.Deliver(email, verifyLink(c, token), purposeVerification), nil
}

// purposeVerification names verification links in the logs.
const purposeVerification = "email-verification"

func verifyLink(c echo.Context, token string) string { return Origin(c) + paths.Verify.URL(token) }

// verificationLetter is the mail that carries u's verification link for
// email, queued with the link.
func verificationLetter(c echo.Context, p Postman, u accounts.User, email string) mail.Letter {
	return p.Letter(func(token string, _ time.Time) mail.Message {
		body := fmt.Sprintf("Hello %s,\n\nOpen this link to confirm %s as the email address of your Enclave account:\n\n%s\n\n"+
			"The link works once, for %d hours. If you did not ask for it, ignore this email.\n",
			u.FirstName, email, verifyLink(c, token), int(accounts.VerifyTTL.Hours()))
		return mail.Message{Subject: "Confirm your email address", Body: body, Purpose: purposeVerification}
	})
}

// deliveryMessage tells the person where their link went.
func deliveryMessage(d Delivery, email string) string {
	if d == Logged {
		return "This server has no mail server configured, so the link for " + email +
			" was written to the server's log: ask the server's operator for it."
	}
	return "We are sending a link to " + email + ". Open it to verify the address."
}

// invalid explains a verification link that does not work.
func (h *Verify) invalid(c echo.Context, err error) error {
	if !errors.Is(err, accounts.ErrLinkInvalid) {
		return err
	}
	return h.message(c, http.StatusNotFound, "Link not valid",
		"This verification link is not valid any more: it was used, replaced by a newer one, or it expired. Sign in and ask for a new one.")
}

func (h *Verify) message(c echo.Context, status int, title, msg string) error {
	p, err := pageFor(c, h.Sys, title)
	if err != nil {
		return err
	}
	return render(c, status, views.MessagePage(p, views.ErrorVM{Status: status, Title: title, Message: msg}))
}
