-- Users, projects, memberships and server-side sessions.
-- Written for PostgreSQL; models/migrate.go translates the few type names
-- that differ for SQLite (TIMESTAMPTZ, BYTEA).

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    project_id    TEXT,
    first_name    TEXT NOT NULL,
    last_name     TEXT NOT NULL,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
-- Server-wide users: one account per email. Project-scoped users (patients who
-- register into a single project) are unique per project and email.
CREATE UNIQUE INDEX users_email_server ON users (email) WHERE project_id IS NULL;
CREATE UNIQUE INDEX users_email_project ON users (project_id, email) WHERE project_id IS NOT NULL;

CREATE TABLE projects (
    id                            TEXT PRIMARY KEY,
    name                          TEXT NOT NULL,
    description                   TEXT NOT NULL DEFAULT '',
    super_admin                   BOOLEAN NOT NULL DEFAULT FALSE,
    strict_mode                   BOOLEAN NOT NULL DEFAULT TRUE,
    check_references_on_write     BOOLEAN NOT NULL DEFAULT FALSE,
    features                      TEXT NOT NULL DEFAULT '[]',
    default_patient_access_policy TEXT,
    owner_id                      TEXT REFERENCES users (id) ON DELETE SET NULL,
    version                       INTEGER NOT NULL DEFAULT 1,
    created_at                    TIMESTAMPTZ NOT NULL,
    updated_at                    TIMESTAMPTZ NOT NULL
);

CREATE TABLE project_memberships (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    admin      BOOLEAN NOT NULL DEFAULT FALSE,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, user_id)
);
CREATE INDEX project_memberships_user ON project_memberships (user_id);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    data       BYTEA NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE project_memberships;
DROP TABLE projects;
DROP TABLE users;
