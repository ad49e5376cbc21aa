-- History and search index rows are derived from a resource row, which keeps
-- its foreign key to projects; their own keys to projects only cost a lookup
-- per row written (a fifth of a clone's time at 100,000 resources) and guard
-- nothing the resource row and the row-level-security checks do not. An
-- expunge deletes them by their project column (models/projectops), not by
-- cascade.

-- +goose Up
-- +enclave postgres-only begin
ALTER TABLE resource_history DROP CONSTRAINT IF EXISTS resource_history_project_id_fkey;
ALTER TABLE resource_strings DROP CONSTRAINT IF EXISTS resource_strings_project_id_fkey;
ALTER TABLE resource_tokens DROP CONSTRAINT IF EXISTS resource_tokens_project_id_fkey;
ALTER TABLE resource_dates DROP CONSTRAINT IF EXISTS resource_dates_project_id_fkey;
ALTER TABLE resource_references DROP CONSTRAINT IF EXISTS resource_references_project_id_fkey;
-- +enclave postgres-only end

-- +goose Down
-- +enclave postgres-only begin
ALTER TABLE resource_history ADD CONSTRAINT resource_history_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE resource_strings ADD CONSTRAINT resource_strings_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE resource_tokens ADD CONSTRAINT resource_tokens_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE resource_dates ADD CONSTRAINT resource_dates_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
ALTER TABLE resource_references ADD CONSTRAINT resource_references_project_id_fkey FOREIGN KEY (project_id) REFERENCES projects (id) ON DELETE CASCADE;
-- +enclave postgres-only end
