-- Sign-in throttling counts recent failures per email.

-- +goose Up
CREATE INDEX audit_events_signin ON audit_events (actor_email, action, created_at);

-- +goose Down
DROP INDEX audit_events_signin;
