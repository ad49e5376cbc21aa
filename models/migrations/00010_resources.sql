-- FHIR resources of every project: the current version, every version
-- (history) and the search index tables filled at write time.
-- Written for PostgreSQL; models/migrate.go translates type names for SQLite
-- and drops the blocks marked postgres-only (row-level security).
--
-- Date index bounds are stored as microseconds since the Unix epoch (BIGINT)
-- so that range comparisons are plain integer comparisons on both databases.

-- +goose Up
CREATE TABLE resources (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    version_id    INTEGER NOT NULL,
    last_updated  TIMESTAMPTZ NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    content       TEXT NOT NULL,
    PRIMARY KEY (project_id, resource_type, id)
);
CREATE INDEX resources_updated ON resources (project_id, resource_type, last_updated, id);

CREATE TABLE resource_history (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    id            TEXT NOT NULL,
    version_id    INTEGER NOT NULL,
    last_updated  TIMESTAMPTZ NOT NULL,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    content       TEXT NOT NULL,
    PRIMARY KEY (project_id, resource_type, id, version_id)
);
CREATE INDEX resource_history_updated ON resource_history (project_id, resource_type, last_updated);

CREATE TABLE resource_strings (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    param         TEXT NOT NULL,
    value         TEXT NOT NULL
);
CREATE INDEX resource_strings_value ON resource_strings (project_id, resource_type, param, value);
CREATE INDEX resource_strings_owner ON resource_strings (project_id, resource_type, resource_id);

CREATE TABLE resource_tokens (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    param         TEXT NOT NULL,
    system        TEXT NOT NULL,
    code          TEXT NOT NULL,
    text          TEXT NOT NULL
);
CREATE INDEX resource_tokens_code ON resource_tokens (project_id, resource_type, param, code);
CREATE INDEX resource_tokens_owner ON resource_tokens (project_id, resource_type, resource_id);

CREATE TABLE resource_dates (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    param         TEXT NOT NULL,
    start_us      BIGINT NOT NULL,
    end_us        BIGINT NOT NULL
);
CREATE INDEX resource_dates_range ON resource_dates (project_id, resource_type, param, start_us);
CREATE INDEX resource_dates_owner ON resource_dates (project_id, resource_type, resource_id);

CREATE TABLE resource_references (
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    param         TEXT NOT NULL,
    ref_type      TEXT NOT NULL,
    ref_id        TEXT NOT NULL,
    ref           TEXT NOT NULL
);
CREATE INDEX resource_references_target ON resource_references (project_id, resource_type, param, ref_id);
CREATE INDEX resource_references_owner ON resource_references (project_id, resource_type, resource_id);

-- +enclave postgres-only begin
-- Row-level security, the second wall behind the Tenant store: a tenant
-- transaction sets enclave.project_id and switches to the NOLOGIN role
-- enclave_tenant, which sees only rows of that project. The role is shared
-- by every schema of the cluster, so it is created only when missing.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE enclave_tenant NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('GRANT enclave_tenant TO %I', current_user);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO enclave_tenant', current_schema());
END
$$;
-- +goose StatementEnd
-- Lets PostgreSQL answer prefix searches (LIKE 'abc%') from the index
-- whatever the database collation.
CREATE INDEX resource_strings_prefix ON resource_strings (project_id, resource_type, param, value text_pattern_ops);

GRANT SELECT, INSERT, UPDATE, DELETE ON resources, resource_history, resource_strings,
    resource_tokens, resource_dates, resource_references TO enclave_tenant;

ALTER TABLE resources ENABLE ROW LEVEL SECURITY;
ALTER TABLE resources FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resources
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
ALTER TABLE resource_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_history FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_history
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
ALTER TABLE resource_strings ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_strings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_strings
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
ALTER TABLE resource_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_tokens
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
ALTER TABLE resource_dates ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_dates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_dates
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
ALTER TABLE resource_references ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_references FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_references
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
-- +enclave postgres-only end

-- +goose Down
DROP TABLE resource_references;
DROP TABLE resource_dates;
DROP TABLE resource_tokens;
DROP TABLE resource_strings;
DROP TABLE resource_history;
DROP TABLE resources;
