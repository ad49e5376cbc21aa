-- Accounts own their email addresses, and invitations are offers, not
-- accounts.
--
-- users.email_verified_at is set when the person opened a one-time link
-- sent to the address (or reset their password through one). Accounts from
-- before this migration start unverified: they keep their memberships and
-- can sign in, but must verify before an invitation can attach to them.
--
-- account_tokens are those one-time links (email verification, password
-- reset), stored as SHA-256 of the token; email is the address the link was
-- sent to, so a verification link for a new address changes the account's
-- email only when it is opened. One live link per account and purpose.
--
-- invitations replace the invite links of 00005: an invitation names an
-- email address, not an account, and becomes a membership only when the
-- verified owner of that address accepts it. Pending memberships of
-- passwordless accounts (the old model) become invitations with the same
-- link, and the passwordless accounts go.
--
-- sessions learn where they were opened and when they were last used, for
-- the account page's list of sessions.

-- +goose Up
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

CREATE TABLE account_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,
    email      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX account_tokens_one_live ON account_tokens (user_id, purpose) WHERE used_at IS NULL;

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    admin            BOOLEAN NOT NULL DEFAULT FALSE,
    access_policy_id TEXT REFERENCES access_policies (id) ON DELETE CASCADE,
    token_hash       TEXT NOT NULL UNIQUE,
    expires_at       TIMESTAMPTZ NOT NULL,
    created_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
-- One invitation per project and address: inviting again replaces it.
CREATE UNIQUE INDEX invitations_project_email ON invitations (project_id, email);
CREATE INDEX invitations_email ON invitations (email);

INSERT INTO invitations (id, project_id, email, admin, access_policy_id, token_hash, expires_at, created_by, created_at)
SELECT m.id, m.project_id, u.email, m.admin, m.access_policy_id,
       COALESCE((SELECT i.token_hash FROM invites i WHERE i.membership_id = m.id AND i.used_at IS NULL), 'retired:' || m.id),
       COALESCE((SELECT i.expires_at FROM invites i WHERE i.membership_id = m.id AND i.used_at IS NULL), m.created_at),
       m.invited_by, m.created_at
FROM project_memberships m JOIN users u ON u.id = m.user_id
WHERE u.password_hash = '' AND u.project_id IS NULL AND m.active;
DELETE FROM users WHERE password_hash = '' AND project_id IS NULL;
DROP TABLE invites;

ALTER TABLE sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE sessions DROP COLUMN last_seen_at;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN ip;
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
CREATE UNIQUE INDEX invites_one_live ON invites (membership_id) WHERE used_at IS NULL;
DROP TABLE invitations;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
