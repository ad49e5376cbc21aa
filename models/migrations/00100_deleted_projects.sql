-- A project admin's deletion of their project is soft first: the project
-- gets deleted_at (and who did it) and disappears for every member at once;
-- the server expunges it for good once the retention (ENCLAVE_DELETED_RETENTION)
-- has passed, and until then a super admin can restore it. The partial
-- index serves the dashboard's list and the retention sweep, which read only
-- the deleted few.

-- +goose Up
ALTER TABLE projects ADD COLUMN deleted_at TIMESTAMPTZ;
ALTER TABLE projects ADD COLUMN deleted_by TEXT REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX projects_deleted ON projects (deleted_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP INDEX projects_deleted;
ALTER TABLE projects DROP COLUMN deleted_by;
ALTER TABLE projects DROP COLUMN deleted_at;
