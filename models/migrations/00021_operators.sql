-- The super admin's dashboard (issue 11): accounts an operator deactivated
-- or gave a temporary password, the indexes its project list pages by, and
-- the one narrow way past row-level security it needs to count each
-- project's resources in one query.
--
-- users.deactivated_at: set, the account cannot sign in and resolves as no
-- one (its sessions are deleted when it is set).
-- users.must_change_password: set with a temporary password; the console
-- lets the account do nothing but choose a new one until it has.

-- +goose Up
ALTER TABLE users ADD COLUMN deactivated_at TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX projects_name ON projects (name, id);
CREATE INDEX projects_created ON projects (created_at, id);
-- +enclave postgres-only begin
-- A transaction that sets enclave.operator to 'stats' may read every
-- project's resources, for the dashboard's grouped counts and sizes
-- (models.System.ProjectStats): reading, never writing, and only there.
CREATE POLICY operator_stats ON resources FOR SELECT
    USING (current_setting('enclave.operator', true) = 'stats');
-- +enclave postgres-only end

-- +goose Down
-- +enclave postgres-only begin
DROP POLICY operator_stats ON resources;
-- +enclave postgres-only end
DROP INDEX projects_created;
DROP INDEX projects_name;
ALTER TABLE users DROP COLUMN must_change_password;
ALTER TABLE users DROP COLUMN deactivated_at;
