-- Search index of composite parameters (models/resources): one row per
-- element a composite reaches and pairing of its components' values, so
-- that both components of a match come from the same element (the same
-- Observation.component). The first component is a token (system, code);
-- the second is a quantity (value, low, high, v_system, v_code, unit), a
-- token (v_system, v_code), a string (v_text normalised, v_raw as written)
-- or a date (start_us, end_us); the columns it does not use stay empty.

-- +goose Up
CREATE TABLE resource_composites (
    project_id    TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    updated_us    BIGINT NOT NULL DEFAULT 0,
    param         TEXT NOT NULL,
    system        TEXT NOT NULL,
    code          TEXT NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    low           DOUBLE PRECISION NOT NULL,
    high          DOUBLE PRECISION NOT NULL,
    v_system      TEXT NOT NULL,
    v_code        TEXT NOT NULL,
    v_text        TEXT NOT NULL,
    v_raw         TEXT NOT NULL,
    unit          TEXT NOT NULL,
    start_us      BIGINT NOT NULL,
    end_us        BIGINT NOT NULL
);
CREATE INDEX resource_composites_code ON resource_composites (project_id, resource_type, param, code);
CREATE INDEX resource_composites_owner ON resource_composites (resource_id, project_id);

-- +enclave postgres-only begin
GRANT SELECT, INSERT, UPDATE, DELETE ON resource_composites TO enclave_tenant;
ALTER TABLE resource_composites ENABLE ROW LEVEL SECURITY;
ALTER TABLE resource_composites FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_rows ON resource_composites
    USING (project_id = current_setting('enclave.project_id', true))
    WITH CHECK (project_id = current_setting('enclave.project_id', true));
CREATE POLICY clone_source ON resource_composites FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
ALTER TABLE resource_composites SET (autovacuum_analyze_threshold = 50, autovacuum_analyze_scale_factor = 0.02);
-- +enclave postgres-only end

-- +goose Down
DROP TABLE resource_composites;
