-- Project secrets (tenant data). Values are stored only as AES-256-GCM
-- ciphertext; key_id names the key that sealed it, hint is the masked form
-- the console shows.

-- +goose Up
CREATE TABLE project_secrets (
    id         TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    ciphertext BYTEA NOT NULL,
    key_id     TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (project_id, name)
);

-- +goose Down
DROP TABLE project_secrets;
