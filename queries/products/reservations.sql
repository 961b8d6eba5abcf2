-- name: CreateReservation :one
-- Returns no row when the order already has a reservation (the caller then reads it).
INSERT INTO reservations (order_id, status) VALUES ($1, 'active')
ON CONFLICT (order_id) DO NOTHING
RETURNING *;

-- name: GetReservation :one
SELECT * FROM reservations WHERE order_id = $1;

-- name: GetReservationForUpdate :one
SELECT * FROM reservations WHERE order_id = $1 FOR UPDATE;

-- name: ReleasedTombstone :execrows
-- Releasing an order that has no reservation yet leaves a tombstone, so that a
-- reservation arriving late (a retried call) is refused instead of leaking stock.
-- No row inserted: a reservation committed meanwhile, which the caller releases.
INSERT INTO reservations (order_id, status) VALUES ($1, 'released')
ON CONFLICT (order_id) DO NOTHING;

-- name: SetReservationStatus :exec
UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1;

-- name: ListReservationItems :many
SELECT * FROM reservation_items WHERE order_id = $1 ORDER BY product_id;

-- name: AddReservationItem :exec
INSERT INTO reservation_items (order_id, product_id, quantity, unit_price) VALUES ($1, $2, $3, $4);

-- name: TakeStock :one
-- Takes quantity units out of stock when the product is active and has them;
-- no row otherwise. The row lock serialises concurrent reservations.
UPDATE products
SET stock = stock - sqlc.arg(quantity), reserved = reserved + sqlc.arg(quantity), updated_at = now()
WHERE id = sqlc.arg(id) AND active AND stock >= sqlc.arg(quantity)
RETURNING price;

-- name: ReturnStock :exec
UPDATE products
SET stock = stock + sqlc.arg(quantity), reserved = reserved - sqlc.arg(quantity), updated_at = now()
WHERE id = sqlc.arg(id);

-- name: ConsumeReserved :exec
UPDATE products
SET reserved = reserved - sqlc.arg(quantity), updated_at = now()
WHERE id = sqlc.arg(id);
