package web

import (
	"context"
	"log/slog"
	"time"

	"enclave/handlers"
	"enclave/models/mail"
	"enclave/models/secrets"
)

// MailKeep is how long the outbox keeps a mail after it was sent (without
// its body) or given up, for the operator to look into.
const MailKeep = 7 * 24 * time.Hour

const (
	// mailPoll is how often the sender looks for due mail when no request
	// wakes it: retries fall due, and other server instances queue mail.
	mailPoll = time.Second
	// mailBatch is how many mails the sender claims at once; it sends them
	// one after another, well within mail.Lease.
	mailBatch = 10
	// mailRecordTimeout bounds recording how a send went, which is done
	// even while the sender stops.
	mailRecordTimeout = 5 * time.Second
)

// mailer sends one message; smtpMailer is the real one.
type mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// mailSender delivers the outbox's mail in the background, so that no
// request waits for the mail server. A failure is logged without the
// message (which holds a link) and tried again later; see
// mail.Outbox.MarkFailed for when.
type mailSender struct {
	outbox *mail.Outbox
	mailer mailer
	log    *slog.Logger
	wake   chan struct{}
}

// setUpMail makes the server's outbox, its sender when a mail server is
// configured (whose backlog is then exported as enclave_outbox_backlog),
// and the Postman through which handlers queue mail.
func (s *Server) setUpMail(box *secrets.Box) handlers.Postman {
	postman := handlers.Postman{Log: s.log}
	if box == nil {
		if s.cfg.SMTP.Host != "" {
			s.log.Error("mail cannot be queued without the secrets key: links are written to the server log")
		}
		return postman
	}
	s.outbox = s.sys.Outbox(box)
	if s.cfg.SMTP.Host == "" {
		return postman
	}
	s.sender = &mailSender{outbox: s.outbox, mailer: newSMTPMailer(s.cfg.SMTP), log: s.log, wake: make(chan struct{}, 1)}
	postman.Outbox, postman.Wake = s.outbox, s.sender.Wake
	s.SetOutboxBacklog(s.outbox.Backlog)
	return postman
}

// RunMail sends the queued mail until ctx is cancelled, and returns once
// the sender has stopped; at once when no mail server is configured. Run
// starts it; tests that serve the handler themselves start it too. A mail
// whose sending the stop interrupts is sent again after the next start.
func (s *Server) RunMail(ctx context.Context) {
	if s.sender != nil {
		s.sender.run(ctx)
	}
}

// Wake makes the sender look for mail now.
func (m *mailSender) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mailSender) run(ctx context.Context) {
	poll := time.NewTicker(mailPoll)
	defer poll.Stop()
	var purged time.Time
	for {
		if time.Since(purged) >= time.Hour {
			m.purge(ctx)
			purged = time.Now()
		}
		m.sendDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		case <-poll.C:
		}
	}
}

// sendDue sends every mail that is due, batch after batch.
func (m *mailSender) sendDue(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := m.outbox.Claim(ctx, mailBatch)
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("outbox: claiming mail failed", "err", err)
			}
			return
		}
		for _, q := range batch {
			m.send(ctx, q)
		}
		if len(batch) < mailBatch {
			return
		}
	}
}

// send delivers one claimed mail and records how it went.
func (m *mailSender) send(ctx context.Context, q mail.Queued) {
	if ctx.Err() != nil {
		return // stopping: the lease runs out and the mail goes after the restart
	}
	err := m.mailer.Send(ctx, q.To, q.Subject, q.Body)
	if err != nil && ctx.Err() != nil {
		m.log.Info("email interrupted by shutdown; it is sent after the restart", "mail", q.ID, "purpose", q.Purpose)
		return
	}
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), mailRecordTimeout)
	defer cancel()
	if err == nil {
		if err := m.outbox.MarkSent(rec, q.ID); err != nil {
			m.log.Error("outbox: email sent but not marked sent; it may go twice", "mail", q.ID, "err", err)
			return
		}
		m.log.Info("email sent", "mail", q.ID, "purpose", q.Purpose, "attempt", q.Attempts)
		return
	}
	next, merr := m.outbox.MarkFailed(rec, q, err)
	switch {
	case merr != nil:
		m.log.Error("email not sent, and the failure not recorded", "mail", q.ID, "purpose", q.Purpose, "err", err, "record_err", merr)
	case next.IsZero():
		m.log.Error("email not sent; giving up", "mail", q.ID, "purpose", q.Purpose, "attempts", q.Attempts, "err", err)
	default:
		m.log.Warn("email not sent; will retry", "mail", q.ID, "purpose", q.Purpose, "attempt", q.Attempts,
			"retry_at", next.UTC().Format(time.RFC3339), "err", err)
	}
}

// purge deletes mail sent or given up more than MailKeep ago.
func (m *mailSender) purge(ctx context.Context) {
	n, err := m.outbox.Purge(ctx, MailKeep)
	switch {
	case err != nil && ctx.Err() == nil:
		m.log.Warn("outbox purge failed", "err", err)
	case n > 0:
		m.log.Info("old mail removed from the outbox", "count", n)
	}
}
