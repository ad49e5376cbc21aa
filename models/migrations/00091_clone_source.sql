-- A project clone (models/projectops) copies the rows of one project into
-- another with INSERT … SELECT, inside the row-level-security wall of the
-- copy (enclave.project_id names it, so every new row is checked against
-- it). It names its source in enclave.clone_source, and these policies let
-- the statements read that project's rows too: SELECT only, so nothing can
-- be written there. Tenant transactions never set enclave.clone_source, so
-- for them the wall is as before.

-- +goose Up
-- +enclave postgres-only begin
CREATE POLICY clone_source ON resources FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
CREATE POLICY clone_source ON resource_strings FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
CREATE POLICY clone_source ON resource_tokens FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
CREATE POLICY clone_source ON resource_dates FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
CREATE POLICY clone_source ON resource_references FOR SELECT
    USING (project_id = current_setting('enclave.clone_source', true));
-- +enclave postgres-only end

-- +goose Down
-- +enclave postgres-only begin
DROP POLICY clone_source ON resource_references;
DROP POLICY clone_source ON resource_dates;
DROP POLICY clone_source ON resource_tokens;
DROP POLICY clone_source ON resource_strings;
DROP POLICY clone_source ON resources;
-- +enclave postgres-only end
