-- Search index of number and quantity parameters (models/resources): the
-- value as written, the range [low, high) its implicit precision covers
-- (5.4 covers [5.35, 5.45)), and for a quantity its system, code and unit
-- (empty for a number). DOUBLE PRECISION is an 8-byte float on both
-- databases (SQLite gives the name REAL affinity). Searches compare the
-- value (eq, gt, lt, ...), so the value is what the index orders.

-- +goose Up
CREATE TABLE resource_quantities (
    project_id    TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    updated_us    BIGINT NOT NULL DEFAULT 0,
    param         TEXT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    low           DOUBLE PRECISION NOT NULL,
    high          DOUBLE PRECISION NOT NULL,
    system        TEXT NOT NULL,
    code          TEXT NOT NULL,
    unit          TEXT NOT NULL
);
CREATE INDEX resource_quantities_value ON resource_quantities (project_id, resource_type, param, value);
CREATE INDEX resource_quantities_owner ON resource_quantities (resource_id, project_id);

-- +enclave postgres-only begin
GRANT SELECT, INSERT, UPDATE, DELETE ON resource_quantities TO enclave_tenant;
ALTER TABLE resource_quantities ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_quantities FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_quantities
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
CREATE POLICY clone_source ON resource_quantities FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
-- Analyzed early, as the other index tables (00011_resource_statistics).
ALTER TABLE resource_quantities SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
-- +enclave postgres-only end

-- +goose Down
DROP TABLE resource_quantities;
