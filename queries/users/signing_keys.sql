-- name: ListSigningKeys :many
-- Newest first: the first key signs.
SELECT * FROM signing_keys ORDER BY created_at DESC, kid DESC;

-- name: CreateSigningKey :exec
INSERT INTO signing_keys (kid, private_key) VALUES ($1, $2);

-- name: LockBootstrap :exec
-- Serializes bootstraps of concurrently starting replicas (transaction-scoped).
SELECT pg_advisory_xact_lock(hashtext('users.bootstrap'));
