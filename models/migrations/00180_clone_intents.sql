-- A clone on PostgreSQL writes its search index rows on connections of its
-- own (models/projectops), whose transactions commit a moment before the
-- clone's. Each clone in progress has a row here, written before any of
-- its rows and deleted in the clone's own transaction: one left behind
-- names a clone that never committed, whose index rows (belonging to no
-- project) the next sweep deletes.

-- +goose Up
-- +enclave postgres-only begin
CREATE TABLE clone_intents (
    project_id TEXT PRIMARY KEY,
    source_id  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- +enclave postgres-only end

-- +goose Down
-- +enclave postgres-only begin
DROP TABLE clone_intents;
-- +enclave postgres-only end
