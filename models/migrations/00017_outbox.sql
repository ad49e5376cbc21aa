-- The outbox: mail waiting for the background sender, written in the same
-- transaction as the change that causes it (an invitation, a one-time
-- account link), so that a mail goes if and only if that change commits,
-- and a slow mail server never holds up a request.
--
-- body is sealed with the secrets key (key_id names it), since it holds a
-- one-time link; it is cleared once the mail is sent or given up.
-- last_error is the mail server's short answer, never the message.
-- A pending row has neither sent_at nor failed_at; next_attempt_at is when
-- it is due, and while a sender holds it, when its lease runs out.

-- +goose Up
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            BYTEA,
    key_id          TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         TIMESTAMPTZ,
    failed_at       TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP TABLE outbox;
