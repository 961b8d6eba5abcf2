-- +goose Up
CREATE TABLE products (
    id          uuid PRIMARY KEY,
    name        text NOT NULL CONSTRAINT products_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    description text NOT NULL DEFAULT '' CONSTRAINT products_description_check CHECK (char_length(description) <= 500),
    -- exact money: numeric, never float
    price       numeric(12, 2) NOT NULL CONSTRAINT products_price_check CHECK (price > 0),
    -- units that can still be reserved
    stock       integer NOT NULL CONSTRAINT products_stock_check CHECK (stock >= 0),
    -- units held by active reservations (already taken out of stock)
    reserved    integer NOT NULL DEFAULT 0 CONSTRAINT products_reserved_check CHECK (reserved >= 0),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One reservation per order: the order id is the idempotency key. A released
-- row stays as a tombstone so that a late retry cannot reserve again.
CREATE TABLE reservations (
    order_id   uuid PRIMARY KEY,
    status     text NOT NULL CONSTRAINT reservations_status_check CHECK (status IN ('active', 'released', 'fulfilled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_items (
    order_id   uuid NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    product_id uuid NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(12, 2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX reservation_items_product_idx ON reservation_items (product_id);

-- +goose Down
DROP TABLE reservation_items;
DROP TABLE reservations;
DROP TABLE products;
