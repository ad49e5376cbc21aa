-- Every membership has a profile resource in its project (a Practitioner for
-- people), as in Medplum. Existing memberships get theirs from
-- models.BackfillProfiles, which Migrate runs after the SQL migrations.

-- +goose Up
ALTER TABLE project_memberships ADD COLUMN profile_type TEXT NOT NULL DEFAULT '';
ALTER TABLE project_memberships ADD COLUMN profile_id TEXT;

-- +goose Down
ALTER TABLE project_memberships DROP COLUMN profile_id;
ALTER TABLE project_memberships DROP COLUMN profile_type;
