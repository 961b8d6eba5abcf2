-- name: GetCustomer :one
SELECT * FROM customers WHERE id = $1;

-- name: ListCustomers :many
SELECT * FROM customers
WHERE id > sqlc.arg(after)
  AND (sqlc.narg(national_id)::text IS NULL OR national_id = sqlc.narg(national_id))
  AND (sqlc.narg(email)::text IS NULL OR email = sqlc.narg(email))
  AND (sqlc.narg(q)::text IS NULL
       OR (first_name || ' ' || paternal_surname || ' ' || maternal_surname) ILIKE '%' || sqlc.narg(q) || '%')
ORDER BY id
LIMIT sqlc.arg(lim);

-- name: CreateCustomer :one
INSERT INTO customers (id, first_name, paternal_surname, maternal_surname, national_id, email, phone, address, birth_date, sex)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING *;

-- name: UpdateCustomer :one
UPDATE customers
SET first_name = $2, paternal_surname = $3, maternal_surname = $4, national_id = $5, email = $6,
    phone = $7, address = $8, birth_date = $9, sex = $10, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteCustomer :execrows
DELETE FROM customers WHERE id = $1;
