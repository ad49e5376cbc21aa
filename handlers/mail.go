package handlers

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
)

// Mailer sends a plain-text email. The web layer provides one when a mail
// server is configured.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// Delivery says how a one-time link reached (or failed to reach) its
// address, so that the page can tell the person where to look.
type Delivery int

const (
	// Mailed: the mail server accepted the message.
	Mailed Delivery = iota + 1
	// Logged: no mail server is configured, so the link was written to the
	// server's log for the operator to pass on.
	Logged
	// MailFailed: the mail server refused or could not be reached; the link
	// went nowhere.
	MailFailed
)

// Postman delivers account links (email verification, password reset): by
// mail when a mail server is configured, else into the server log, where
// the operator of a mail-less installation finds them. Nothing else ever
// logs a link.
type Postman struct {
	// Mailer is nil when no mail server is configured.
	Mailer Mailer
	Log    *slog.Logger
}

// Deliver sends body (which holds link) to the address. purpose names the
// link in the log.
func (p Postman) Deliver(c echo.Context, to, subject, body, link, purpose string) Delivery {
	if p.Mailer == nil {
		p.Log.Info("no mail server configured: pass this link on to its owner", "purpose", purpose, "to", to, "link", link)
		return Logged
	}
	if err := p.Mailer.Send(ctx(c), to, subject, body); err != nil {
		p.Log.Warn("email not sent", "purpose", purpose, "err", err)
		return MailFailed
	}
	return Mailed
}
