-- name: GetProduct :one
SELECT * FROM products WHERE id = $1;

-- name: ListProducts :many
SELECT * FROM products
WHERE id > sqlc.arg(after)
  AND (sqlc.narg(active)::boolean IS NULL OR active = sqlc.narg(active))
  AND (sqlc.narg(in_stock)::boolean IS NULL OR (stock > 0) = sqlc.narg(in_stock))
  AND (sqlc.narg(q)::text IS NULL OR name ILIKE '%' || sqlc.narg(q) || '%' OR description ILIKE '%' || sqlc.narg(q) || '%')
ORDER BY id
LIMIT sqlc.arg(lim);

-- name: CreateProduct :one
INSERT INTO products (id, name, description, price, stock, active)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: UpdateProduct :one
UPDATE products
SET name = $2, description = $3, price = $4, stock = $5, active = $6, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteProduct :execrows
DELETE FROM products WHERE id = $1;
