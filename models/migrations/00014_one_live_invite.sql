-- A membership has at most one live (unused) invite link, whatever two
-- admins do at the same moment: re-inviting replaces the link under a lock
-- on the membership, and this index makes a second live link impossible.

-- +goose Up
DELETE FROM invites WHERE used_at IS NULL AND id NOT IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY membership_id ORDER BY created_at DESC, id DESC) AS n
        FROM invites WHERE used_at IS NULL
    ) ranked WHERE n = 1
);
CREATE UNIQUE INDEX invites_one_live ON invites (membership_id) WHERE used_at IS NULL;

-- +goose Down
DROP INDEX invites_one_live;
