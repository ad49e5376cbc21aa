-- Attempt counters for sign-in and registration throttling, one row per
-- key (a SHA-256 of what is counted: an account and client address, or an
-- address alone), shared by every server instance.

-- +goose Up
CREATE TABLE throttle (
    id         TEXT PRIMARY KEY,
    attempts   INTEGER NOT NULL,
    allowed_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX throttle_updated ON throttle (updated_at);

-- +goose Down
DROP TABLE throttle;
