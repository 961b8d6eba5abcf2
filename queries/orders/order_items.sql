-- name: AddOrderItem :exec
INSERT INTO order_items (order_id, line, product_id, quantity) VALUES ($1, $2, $3, $4);

-- name: ListOrderItems :many
SELECT * FROM order_items WHERE order_id = ANY(sqlc.arg(order_ids)::uuid[]) ORDER BY order_id, line;

-- name: SetItemPrice :execrows
UPDATE order_items SET unit_price = $3 WHERE order_id = $1 AND product_id = $2;
