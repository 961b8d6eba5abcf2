-- name: GetAssignment :one
SELECT * FROM assignments WHERE order_id = $1;

-- name: GetAssignmentForUpdate :one
SELECT * FROM assignments WHERE order_id = $1 FOR UPDATE;

-- name: CreateAssignment :one
-- Returns no row when the order already has an assignment (the caller then reads it).
INSERT INTO assignments (order_id, delivery_man_id, status) VALUES ($1, $2, 'active')
ON CONFLICT (order_id) DO NOTHING
RETURNING *;

-- name: ReleasedTombstone :execrows
-- Releasing an order that has no assignment yet leaves a tombstone, so that an
-- assignment arriving late (a retried call) is refused instead of taking capacity.
INSERT INTO assignments (order_id, delivery_man_id, status) VALUES ($1, NULL, 'released')
ON CONFLICT (order_id) DO NOTHING;

-- name: ReleaseAssignment :exec
UPDATE assignments SET status = 'released', updated_at = now() WHERE order_id = $1;
