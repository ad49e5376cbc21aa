-- String search keeps the value as written next to its normalised form, so
-- that :exact can compare case and accents.

-- +goose Up
ALTER TABLE resource_strings ADD COLUMN raw TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE resource_strings DROP COLUMN raw;
