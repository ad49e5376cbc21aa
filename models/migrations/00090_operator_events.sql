-- The operator's log: what super admins did to whole projects (clone,
-- expunge). Unlike audit_events it belongs to no project, so it outlives
-- the projects it names (an expunge deletes a project's own audit events
-- with it); the project a line is about is in target ("Project/<id>") and
-- details, never in a project column. It is written in the transaction of
-- the act it records.

-- +goose Up
CREATE TABLE operator_events (
    id          TEXT PRIMARY KEY,
    user_id     TEXT REFERENCES users (id) ON DELETE SET NULL,
    actor_email TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}',
    ip          TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX operator_events_created ON operator_events (created_at);

-- +goose Down
DROP TABLE operator_events;
