package handlers

import (
	"enclave/models/mail"
	"log/slog"
	"time"
)

// Delivery says where a one-time link went, so that the page can tell the
// person where to look.
type Delivery int

const (
	// Queued: the mail that carries the link is in the outbox, queued with
	// the link; the background sender delivers it in a moment, and tries
	// again later when the mail server fails.
	Queued Delivery = iota + 1
	// Logged: no mail server is configured, so the link was written to the
	// server's log for the operator to pass on.
	Logged
)

// Postman delivers the links Enclave mails (email verification, password
// reset, invitations). With a mail server, the mail goes into the outbox in
// the transaction that issues the link (see Letter), and a background
// sender delivers it, so no request waits for the mail server. Without one,
// account links go into the server log, where the operator of a mail-less
// installation finds them; nothing else ever logs a link.
type Postman struct {
	// Outbox is nil when no mail server is configured.
	Outbox *mail.Outbox
	// Wake tells the sender that mail was queued, so that it goes at once
	// rather than at the sender's next look; nil when there is no sender.
	Wake func()
	Log  *slog.Logger
}

// Letter is the mail that write makes for a link, for the store that
// issues the link to queue with it. Without a mail server it is the zero
// Letter, which queues nothing.
func (p Postman) Letter(write func(token string, expires time.Time) mail.Message) mail.Letter {
	if p.Outbox == nil {
		return mail.Letter{}
	}
	return mail.Letter{Outbox: p.Outbox, Write: write}
}

// queued reports whether the Letter of a link that was just issued went to
// the outbox, and wakes the sender if so.
func (p Postman) queued() bool {
	if p.Outbox == nil {
		return false
	}
	if p.Wake != nil {
		p.Wake()
	}
	return true
}

// Deliver says where an account link went once its store issued it: queued
// with it, or, without a mail server, written to the server log now, for
// the operator. purpose names the link in the log.
func (p Postman) Deliver(to, link, purpose string) Delivery {
	if p.queued() {
		return Queued
	}
	p.Log.Info("no mail server configured: pass this link on to its owner", "purpose", purpose, "to", to, "link", link)
	return Logged
}
