-- +goose Up
-- One row per order. The REST side inserts it as PENDING; from then on the
-- order's workflow (through its activities) is the only writer of its state.
CREATE TABLE orders (
    id               uuid PRIMARY KEY,
    status           text NOT NULL DEFAULT 'PENDING'
        CONSTRAINT orders_status_check CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'PICKED_UP', 'DELIVERED', 'CANCELLED')),
    user_id          uuid NOT NULL,
    customer_id      uuid NOT NULL,
    delivery_man_id  uuid NOT NULL,
    phone            text NOT NULL CONSTRAINT orders_phone_check CHECK (phone ~ '^[0-9]{9}$'),
    delivery_address text NOT NULL CONSTRAINT orders_delivery_address_check CHECK (char_length(delivery_address) BETWEEN 1 AND 100),
    deliver_at       timestamptz NOT NULL,
    -- exact money, set when the order is confirmed (price snapshot of the reservation)
    total            numeric(12, 2),
    -- [{entity, id, reason}] of a rejected or cancelled order
    reasons          jsonb NOT NULL DEFAULT '[]',
    -- the pickup deadline passed before the order was picked up
    late             boolean NOT NULL DEFAULT false,
    -- Idempotency-Key of the POST (per user) and a hash of its body
    idempotency_key  text,
    request_hash     text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    confirmed_at     timestamptz,
    picked_up_at     timestamptz,
    delivered_at     timestamptz,
    closed_at        timestamptz -- rejected or cancelled
);

CREATE UNIQUE INDEX orders_idempotency_key ON orders (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_status_idx ON orders (status, id);
CREATE INDEX orders_customer_idx ON orders (customer_id, id);
CREATE INDEX orders_delivery_man_idx ON orders (delivery_man_id, id);
CREATE INDEX orders_pending_idx ON orders (created_at) WHERE status = 'PENDING';

CREATE TABLE order_items (
    order_id   uuid NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line       integer NOT NULL CHECK (line >= 0),
    product_id uuid NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    -- the product's price when the stock was reserved; NULL until confirmed
    unit_price numeric(12, 2),
    PRIMARY KEY (order_id, product_id),
    UNIQUE (order_id, line)
);

-- +goose Down
DROP TABLE order_items;
DROP TABLE orders;
