-- Sign-ins of programs on behalf of a user (issue 10): the OAuth 2.0
-- authorization-code flow with PKCE, as Medplum's SDK drives it through
-- /auth/login, and as third-party apps drive it through /oauth2/authorize.
--
-- A login starts when the password is checked; it is pending until a
-- membership is chosen, then holds a one-time authorization code (stored
-- only as its SHA-256, code_hash) valid until code_expires_at. The token
-- endpoint redeems the code once (granted); a second use revokes the login.
-- client_id is empty for the server's own sign-in (the SDK), and otherwise
-- names an API client whose redirect_uri the code is bound to.
--
-- refresh_tokens are a login's refresh tokens (its "family"), stored as
-- SHA-256. Each use spends one and makes the next; presenting a spent one
-- revokes the login, which voids every token of the family, access tokens
-- included (they carry the login's id).

-- +goose Up
CREATE TABLE logins (
    id                    TEXT PRIMARY KEY,
    user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id            TEXT REFERENCES projects (id) ON DELETE SET NULL,
    membership_id         TEXT REFERENCES project_memberships (id) ON DELETE SET NULL,
    client_id             TEXT NOT NULL DEFAULT '',
    redirect_uri          TEXT NOT NULL DEFAULT '',
    scope                 TEXT NOT NULL DEFAULT '',
    nonce                 TEXT NOT NULL DEFAULT '',
    code_challenge        TEXT NOT NULL,
    code_challenge_method TEXT NOT NULL,
    code_hash             TEXT UNIQUE,
    code_expires_at       TIMESTAMPTZ,
    granted               BOOLEAN NOT NULL DEFAULT FALSE,
    revoked               BOOLEAN NOT NULL DEFAULT FALSE,
    ip                    TEXT NOT NULL DEFAULT '',
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);
CREATE INDEX logins_membership ON logins (membership_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    login_id   TEXT NOT NULL REFERENCES logins (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMPTZ NOT NULL,
    spent_at   TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_login ON refresh_tokens (login_id);

-- +goose Down
DROP TABLE refresh_tokens;
DROP TABLE logins;
