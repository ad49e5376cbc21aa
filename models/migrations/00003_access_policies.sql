-- Access policies (tenant data) and the membership columns that refer to them.

-- +goose Up
CREATE TABLE access_policies (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    rules      TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name)
);

ALTER TABLE project_memberships ADD COLUMN access_policy_id TEXT REFERENCES access_policies (id) ON DELETE SET NULL;
ALTER TABLE project_memberships ADD COLUMN invited_by TEXT REFERENCES users (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE project_memberships DROP COLUMN invited_by;
ALTER TABLE project_memberships DROP COLUMN access_policy_id;
DROP TABLE access_policies;
