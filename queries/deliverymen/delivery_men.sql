-- name: GetDeliveryMan :one
SELECT * FROM delivery_men WHERE id = $1;

-- name: GetDeliveryManByUser :one
SELECT * FROM delivery_men WHERE user_id = $1;

-- name: GetDeliveryManForUpdate :one
-- The row lock serialises every assignment to this delivery man.
SELECT * FROM delivery_men WHERE id = $1 FOR UPDATE;

-- name: ListDeliveryMen :many
SELECT * FROM delivery_men
WHERE id > sqlc.arg(after)
  AND (sqlc.narg(national_id)::text IS NULL OR national_id = sqlc.narg(national_id))
  AND (sqlc.narg(email)::text IS NULL OR email = sqlc.narg(email))
  AND (sqlc.narg(driver_license)::text IS NULL OR driver_license = sqlc.narg(driver_license))
  AND (sqlc.narg(available)::boolean IS NULL OR available = sqlc.narg(available))
  AND (sqlc.narg(user_id)::uuid IS NULL OR user_id = sqlc.narg(user_id))
  AND (sqlc.narg(q)::text IS NULL
       OR (first_name || ' ' || paternal_surname || ' ' || maternal_surname) ILIKE '%' || sqlc.narg(q) || '%')
ORDER BY id
LIMIT sqlc.arg(lim);

-- name: CreateDeliveryMan :one
INSERT INTO delivery_men (id, first_name, paternal_surname, maternal_surname, national_id, email, phone, address,
                          birth_date, sex, driver_license, available, user_id, capacity)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
RETURNING *;

-- name: UpdateDeliveryMan :one
UPDATE delivery_men
SET first_name = $2, paternal_surname = $3, maternal_surname = $4, national_id = $5, email = $6,
    phone = $7, address = $8, birth_date = $9, sex = $10, driver_license = $11, available = $12,
    user_id = $13, capacity = $14, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteIdleDeliveryMan :execrows
-- Deletes the delivery man only when he has no active assignment; the row
-- condition is rechecked after waiting for a concurrent assignment's lock.
DELETE FROM delivery_men WHERE id = $1 AND active_orders = 0;

-- name: AddActiveOrders :exec
UPDATE delivery_men SET active_orders = active_orders + sqlc.arg(delta)::integer, updated_at = now()
WHERE id = sqlc.arg(id);
