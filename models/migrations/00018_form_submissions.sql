-- One-time tokens of create forms that were submitted, so that a form sent
-- twice (a double click, a replayed request, a retry after a timeout)
-- creates one thing, on whichever server instance each copy lands. id is a
-- SHA-256 of the user, the form's purpose and its token; result is what the
-- first submission made (empty while it is still being made). A row is
-- forgotten after expires_at.

-- +goose Up
CREATE TABLE form_submissions (
    id         TEXT PRIMARY KEY,
    result     TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX form_submissions_expiry ON form_submissions (expires_at);

-- +goose Down
DROP TABLE form_submissions;
