-- The audit log: who did what, when, in which project. Sign-in events have no
-- project.

-- +goose Up
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    project_id  TEXT REFERENCES projects (id) ON DELETE CASCADE,
    user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_email TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    details     TEXT NOT NULL DEFAULT '{}',
    ip          TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_events_project ON audit_events (project_id, created_at);
CREATE INDEX audit_events_user ON audit_events (user_id, created_at);

-- +goose Down
DROP TABLE audit_events;
