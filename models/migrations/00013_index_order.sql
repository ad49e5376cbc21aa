-- Every search index row carries the write time of the version it indexes
-- (updated_us, microseconds since the Unix epoch, the resource's
-- meta.lastUpdated), and the equality indexes end in (updated_us,
-- resource_id). A search that filters on one value then reads that index in
-- result order and stops after one page, instead of collecting, counting and
-- sorting every match; the plan needs no table statistics.

-- The owner indexes find one resource's rows by its id (see ownedBy in
-- models/resource_search.go).

-- +goose Up
ALTER TABLE resource_strings ADD COLUMN updated_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resource_tokens ADD COLUMN updated_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resource_dates ADD COLUMN updated_us BIGINT NOT NULL DEFAULT 0;
ALTER TABLE resource_references ADD COLUMN updated_us BIGINT NOT NULL DEFAULT 0;

-- The walk of a type's resources in update order needs only live rows. A
-- look-up by id, which never names deletion, can then only use the primary
-- key, whatever the planner believes about the table's size.
DROP INDEX resources_updated;
CREATE INDEX resources_updated ON resources (project_id, resource_type, last_updated, id) WHERE NOT deleted;

-- On PostgreSQL one string index serves equality and prefixes alike: with
-- text_pattern_ops a prefix is a byte range of it, which even a generic plan
-- can read (see conditions in models/resource_search.go).
DROP INDEX resource_strings_value;
-- +enclave postgres-only begin
DROP INDEX resource_strings_prefix;
CREATE INDEX resource_strings_value ON resource_strings (project_id, resource_type, param, value text_pattern_ops, updated_us, resource_id);
-- +enclave postgres-only end
-- +enclave sqlite-only begin
CREATE INDEX resource_strings_value ON resource_strings (project_id, resource_type, param, value, updated_us, resource_id);
-- +enclave sqlite-only end
DROP INDEX resource_tokens_code;
CREATE INDEX resource_tokens_code ON resource_tokens (project_id, resource_type, param, code, updated_us, resource_id);
DROP INDEX resource_references_target;
CREATE INDEX resource_references_target ON resource_references (project_id, resource_type, param, ref_id, updated_us, resource_id);
DROP INDEX resource_strings_owner;
CREATE INDEX resource_strings_owner ON resource_strings (resource_id, project_id);
DROP INDEX resource_tokens_owner;
CREATE INDEX resource_tokens_owner ON resource_tokens (resource_id, project_id);
DROP INDEX resource_dates_owner;
CREATE INDEX resource_dates_owner ON resource_dates (resource_id, project_id);
DROP INDEX resource_references_owner;
CREATE INDEX resource_references_owner ON resource_references (resource_id, project_id);

-- Rows written before this migration take their resource's time. Row-level
-- security is forced on these tables, so it is lifted for the backfill
-- (inside the migration's transaction) and forced again.
-- +enclave postgres-only begin
ALTER TABLE resources NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_strings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_tokens NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_dates NO FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_references NO FORCE ROW LEVEL SECURITY;
UPDATE resource_strings x SET updated_us = (EXTRACT(EPOCH FROM r.last_updated) * 1000000)::BIGINT FROM resources r
    WHERE r.project_id = x.project_id AND r.resource_type = x.resource_type AND r.id = x.resource_id;
UPDATE resource_tokens x SET updated_us = (EXTRACT(EPOCH FROM r.last_updated) * 1000000)::BIGINT FROM resources r
    WHERE r.project_id = x.project_id AND r.resource_type = x.resource_type AND r.id = x.resource_id;
UPDATE resource_dates x SET updated_us = (EXTRACT(EPOCH FROM r.last_updated) * 1000000)::BIGINT FROM resources r
    WHERE r.project_id = x.project_id AND r.resource_type = x.resource_type AND r.id = x.resource_id;
UPDATE resource_references x SET updated_us = (EXTRACT(EPOCH FROM r.last_updated) * 1000000)::BIGINT FROM resources r
    WHERE r.project_id = x.project_id AND r.resource_type = x.resource_type AND r.id = x.resource_id;
ALTER TABLE resources FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_strings FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_tokens FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_dates FORCE ROW LEVEL SECURITY;
ALTER TABLE resource_references FORCE ROW LEVEL SECURITY;
-- +enclave postgres-only end
-- SQLite's date functions keep milliseconds: close enough to order old rows.
-- +enclave sqlite-only begin
UPDATE resource_strings SET updated_us = (SELECT CAST(ROUND((julianday(r.last_updated) - 2440587.5) * 86400000.0) AS INTEGER) * 1000
    FROM resources r WHERE r.project_id = resource_strings.project_id AND r.resource_type = resource_strings.resource_type AND r.id = resource_strings.resource_id);
UPDATE resource_tokens SET updated_us = (SELECT CAST(ROUND((julianday(r.last_updated) - 2440587.5) * 86400000.0) AS INTEGER) * 1000
    FROM resources r WHERE r.project_id = resource_tokens.project_id AND r.resource_type = resource_tokens.resource_type AND r.id = resource_tokens.resource_id);
UPDATE resource_dates SET updated_us = (SELECT CAST(ROUND((julianday(r.last_updated) - 2440587.5) * 86400000.0) AS INTEGER) * 1000
    FROM resources r WHERE r.project_id = resource_dates.project_id AND r.resource_type = resource_dates.resource_type AND r.id = resource_dates.resource_id);
UPDATE resource_references SET updated_us = (SELECT CAST(ROUND((julianday(r.last_updated) - 2440587.5) * 86400000.0) AS INTEGER) * 1000
    FROM resources r WHERE r.project_id = resource_references.project_id AND r.resource_type = resource_references.resource_type AND r.id = resource_references.resource_id);
-- +enclave sqlite-only end

-- +goose Down
-- +enclave postgres-only begin
CREATE INDEX resource_strings_prefix ON resource_strings (project_id, resource_type, param, value text_pattern_ops);
-- +enclave postgres-only end
DROP INDEX resources_updated;
CREATE INDEX resources_updated ON resources (project_id, resource_type, last_updated, id);
DROP INDEX resource_strings_value;
CREATE INDEX resource_strings_value ON resource_strings (project_id, resource_type, param, value);
DROP INDEX resource_tokens_code;
CREATE INDEX resource_tokens_code ON resource_tokens (project_id, resource_type, param, code);
DROP INDEX resource_references_target;
CREATE INDEX resource_references_target ON resource_references (project_id, resource_type, param, ref_id);
DROP INDEX resource_strings_owner;
CREATE INDEX resource_strings_owner ON resource_strings (project_id, resource_type, resource_id);
DROP INDEX resource_tokens_owner;
CREATE INDEX resource_tokens_owner ON resource_tokens (project_id, resource_type, resource_id);
DROP INDEX resource_dates_owner;
CREATE INDEX resource_dates_owner ON resource_dates (project_id, resource_type, resource_id);
DROP INDEX resource_references_owner;
CREATE INDEX resource_references_owner ON resource_references (project_id, resource_type, resource_id);
ALTER TABLE resource_strings DROP COLUMN updated_us;
ALTER TABLE resource_tokens DROP COLUMN updated_us;
ALTER TABLE resource_dates DROP COLUMN updated_us;
ALTER TABLE resource_references DROP COLUMN updated_us;
