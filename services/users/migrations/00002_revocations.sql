-- +goose Up
-- Tokens of user_id issued before not_before are void: the account was
-- deactivated, deleted or given another role. Every service polls these rows
-- (GET /auth/revocations) instead of asking about each request; a row is only
-- needed while a token issued before it could still be alive, so rows older
-- than the longest token lifetime are deleted.
CREATE TABLE revocations (
    user_id    uuid PRIMARY KEY,
    not_before timestamptz NOT NULL
);
CREATE INDEX revocations_not_before_idx ON revocations (not_before);

-- +goose Down
DROP TABLE revocations;
