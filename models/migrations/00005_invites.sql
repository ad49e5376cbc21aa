-- One-time invite links. Only the SHA-256 of a token is stored; the raw
-- token is shown to the inviting admin once (and mailed, when SMTP is set up).
-- Deleting the membership deletes its invites, so a removed member's link
-- stops working.

-- +goose Up
CREATE TABLE invites (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    membership_id TEXT NOT NULL REFERENCES project_memberships (id) ON DELETE CASCADE,
    token_hash    TEXT NOT NULL UNIQUE,
    expires_at    TIMESTAMPTZ NOT NULL,
    used_at       TIMESTAMPTZ,
    created_by    TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX invites_membership ON invites (membership_id);

-- +goose Down
DROP TABLE invites;
