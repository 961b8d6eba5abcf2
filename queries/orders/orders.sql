-- name: CreateOrder :one
-- Returns no row when this user already sent this Idempotency-Key (the caller
-- then reads that order).
INSERT INTO orders (id, user_id, customer_id, delivery_man_id, phone, delivery_address, deliver_at, idempotency_key, request_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING *;

-- name: GetOrder :one
SELECT * FROM orders WHERE id = $1;

-- name: GetOrderByIdempotencyKey :one
SELECT * FROM orders WHERE user_id = $1 AND idempotency_key = $2;

-- name: ListOrders :many
SELECT * FROM orders
WHERE id > sqlc.arg(after)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(customer_id)::uuid IS NULL OR customer_id = sqlc.narg(customer_id))
  AND (sqlc.narg(delivery_man_id)::uuid IS NULL OR delivery_man_id = sqlc.narg(delivery_man_id))
  AND (sqlc.narg(created_after)::timestamptz IS NULL OR created_at >= sqlc.narg(created_after))
  AND (sqlc.narg(created_before)::timestamptz IS NULL OR created_at < sqlc.narg(created_before))
  AND (sqlc.narg(late)::boolean IS NULL OR late = sqlc.narg(late))
ORDER BY id
LIMIT sqlc.arg(lim);

-- name: ListStalePendingOrders :many
-- PENDING orders older than a moment: their workflow may never have started.
-- Keyset pages after (after_created, after_id), so one pass sees them all.
SELECT * FROM orders
WHERE status = 'PENDING' AND created_at < sqlc.arg(before)
  AND (created_at, id) > (sqlc.arg(after_created)::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at, id
LIMIT sqlc.arg(lim);

-- name: ConfirmOrder :execrows
UPDATE orders
SET status = 'CONFIRMED', total = sqlc.arg(total), reasons = '[]',
    confirmed_at = coalesce(confirmed_at, now()),
    updated_at = CASE WHEN status = 'CONFIRMED' THEN updated_at ELSE now() END
WHERE id = sqlc.arg(id) AND status IN ('PENDING', 'CONFIRMED');

-- name: SetOrderStatus :execrows
-- Idempotent: setting the status an order already has changes nothing.
UPDATE orders
SET status = sqlc.arg(status), reasons = sqlc.arg(reasons),
    picked_up_at = CASE WHEN sqlc.arg(status) = 'PICKED_UP' THEN coalesce(picked_up_at, now()) ELSE picked_up_at END,
    delivered_at = CASE WHEN sqlc.arg(status) = 'DELIVERED' THEN coalesce(delivered_at, now()) ELSE delivered_at END,
    closed_at = CASE WHEN sqlc.arg(status) IN ('REJECTED', 'CANCELLED') THEN coalesce(closed_at, now()) ELSE closed_at END,
    updated_at = CASE WHEN status = sqlc.arg(status) THEN updated_at ELSE now() END
WHERE id = sqlc.arg(id);

-- name: MarkOrderLate :execrows
UPDATE orders SET late = true, updated_at = now() WHERE id = $1 AND NOT late;
