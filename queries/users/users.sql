-- name: GetUser :one
SELECT * FROM users WHERE id = $1;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(sqlc.arg(email));

-- name: ListUsers :many
SELECT * FROM users
WHERE id > sqlc.arg(after)
  AND (sqlc.narg(role)::text IS NULL OR role = sqlc.narg(role))
  AND (sqlc.narg(active)::boolean IS NULL OR active = sqlc.narg(active))
  AND (sqlc.narg(q)::text IS NULL OR email ILIKE '%' || sqlc.narg(q) || '%' OR name ILIKE '%' || sqlc.narg(q) || '%')
ORDER BY id
LIMIT sqlc.arg(lim);

-- name: CreateUser :one
INSERT INTO users (id, email, name, password_hash, role, active)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: CreateUserIfAbsent :execrows
-- Bootstrap: creates the account unless one with this email exists.
INSERT INTO users (id, email, name, password_hash, role, active)
VALUES ($1, $2, $3, $4, $5, true)
ON CONFLICT DO NOTHING;

-- name: UpdateUser :one
-- An empty password_hash keeps the current one.
UPDATE users
SET email = sqlc.arg(email), name = sqlc.arg(name), role = sqlc.arg(role), active = sqlc.arg(active),
    password_hash = COALESCE(NULLIF(sqlc.arg(password_hash)::text, ''), password_hash),
    updated_at = now()
WHERE id = sqlc.arg(id)
RETURNING *;

-- name: DeleteUser :execrows
DELETE FROM users WHERE id = $1;

-- name: UserState :one
-- What the revocation check needs: is the account still there and active, its
-- role, and since when its tokens are valid (revocations.not_before, if any).
SELECT u.active, u.role, r.not_before AS tokens_not_before
FROM users u LEFT JOIN revocations r ON r.user_id = u.id
WHERE u.id = $1;

-- name: UpdateOwnProfile :one
-- PATCH /users/me: only the name and the password, so that it cannot undo a
-- concurrent change of role or active by an admin. An empty password_hash
-- keeps the current one.
UPDATE users
SET name = sqlc.arg(name),
    password_hash = COALESCE(NULLIF(sqlc.arg(password_hash)::text, ''), password_hash),
    updated_at = now()
WHERE id = sqlc.arg(id) AND active
RETURNING *;
