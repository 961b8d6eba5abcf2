-- name: RevokeTokens :exec
-- Voids the user's tokens issued before not_before (never moves it back).
INSERT INTO revocations (user_id, not_before) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET not_before = GREATEST(revocations.not_before, EXCLUDED.not_before);

-- name: ListRevocations :many
-- The revocations recorded after since, oldest first.
SELECT user_id, not_before FROM revocations
WHERE not_before > sqlc.arg(since)
ORDER BY not_before, user_id;

-- name: PruneRevocations :execrows
-- Rows that no living token can predate any more.
DELETE FROM revocations WHERE not_before < sqlc.arg(before);
