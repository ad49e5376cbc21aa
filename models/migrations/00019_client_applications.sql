-- API clients of a project (issue 10): programs that get access tokens with
-- the client_credentials grant. The id is the client id a program sends.
-- Secrets exist only as SHA-256 hashes: secret_hash is the current one;
-- after a rotation retiring_hash keeps working until retiring_until.
-- revoked_before voids the tokens issued before it (set when the client is
-- disabled). token_lifetime is in seconds.
--
-- On PostgreSQL the rows are walled off per project by row-level security,
-- like the resources: a statement sees a project's clients only inside a
-- transaction that took the role enclave_tenant and set enclave.project_id
-- to that project (kit.Bound.EnterWall), and the token endpoint, which
-- knows only a client id, sees just the one row whose id it set in
-- enclave.client_id.

-- +goose Up
CREATE TABLE client_applications (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    redirect_uris    TEXT NOT NULL DEFAULT '[]',
    access_policy_id TEXT REFERENCES access_policies (id),
    token_lifetime   INTEGER NOT NULL,
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    secret_hash      TEXT NOT NULL,
    retiring_hash    TEXT,
    retiring_until   TIMESTAMPTZ,
    revoked_before   TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    updated_by       TEXT REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX client_applications_policy ON client_applications (project_id, access_policy_id);

-- +enclave postgres-only begin
-- A walled transaction takes the role enclave_tenant (see 00010): it may
-- also check policies and write the audit event of its change.
GRANT SELECT, INSERT, UPDATE, DELETE ON client_applications TO enclave_tenant;
GRANT SELECT ON access_policies TO enclave_tenant;
GRANT INSERT ON audit_events TO enclave_tenant;
ALTER TABLE client_applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_applications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON client_applications
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
CREATE POLICY client_by_id ON client_applications FOR SELECT
    USING (id = current_setting('enclave.client_id', true));
-- +enclave postgres-only end

-- +goose Down
DROP TABLE client_applications;
