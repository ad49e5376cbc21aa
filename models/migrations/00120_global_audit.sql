-- The dashboard's global audit log (issue 11): every project's audit
-- events and the operator's log, newest first, filtered by project, person
-- and action, paged by a keyset (created_at, id), so that any page costs an
-- index range read whatever the log's size.
--
-- operator_events.project_ref and project_name name the project a line is
-- about (its id, and its name at the time), so that the log can be filtered
-- by project and still names one that was expunged. The column is not
-- called project_id on purpose: an expunge deletes every row of every
-- table with a project_id column, and these lines must outlive it.

-- +goose Up
ALTER TABLE operator_events ADD COLUMN project_ref TEXT NOT NULL DEFAULT '';
ALTER TABLE operator_events ADD COLUMN project_name TEXT NOT NULL DEFAULT '';
UPDATE operator_events SET project_ref = substr(target, 9) WHERE target LIKE 'Project/%';
-- +enclave postgres-only begin
UPDATE operator_events SET project_name = COALESCE(details::jsonb ->> 'name', '');
-- +enclave postgres-only end
-- +enclave sqlite-only begin
UPDATE operator_events SET project_name = COALESCE(json_extract(details, '$.name'), '');
-- +enclave sqlite-only end
CREATE INDEX operator_events_page ON operator_events (created_at, id);
CREATE INDEX operator_events_project ON operator_events (project_ref, created_at, id);
CREATE INDEX audit_events_page ON audit_events (created_at, id);
CREATE INDEX audit_events_action ON audit_events (action, created_at, id);
CREATE INDEX audit_events_actor ON audit_events (LOWER(actor_email), created_at, id);
CREATE INDEX operator_events_actor ON operator_events (LOWER(actor_email), created_at, id);

-- +goose Down
DROP INDEX operator_events_actor;
DROP INDEX audit_events_actor;
DROP INDEX audit_events_action;
DROP INDEX audit_events_page;
DROP INDEX operator_events_project;
DROP INDEX operator_events_page;
ALTER TABLE operator_events DROP COLUMN project_name;
ALTER TABLE operator_events DROP COLUMN project_ref;
