-- +goose Up
-- Constraints are named deliverymen_<field>_<kind> (one word before the field)
-- so that pg.Error can name the field of a violation.
CREATE TABLE delivery_men (
    id               uuid PRIMARY KEY,
    first_name       text NOT NULL CONSTRAINT deliverymen_first_name_check CHECK (char_length(first_name) BETWEEN 1 AND 100),
    paternal_surname text NOT NULL CONSTRAINT deliverymen_paternal_surname_check CHECK (char_length(paternal_surname) BETWEEN 1 AND 100),
    maternal_surname text NOT NULL CONSTRAINT deliverymen_maternal_surname_check CHECK (char_length(maternal_surname) BETWEEN 1 AND 100),
    national_id      text NOT NULL CONSTRAINT deliverymen_national_id_check CHECK (national_id ~ '^[0-9]{8}$'),
    -- stored lower-case, so the unique constraint is case-insensitive
    email            text NOT NULL CONSTRAINT deliverymen_email_check CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    phone            text NOT NULL CONSTRAINT deliverymen_phone_check CHECK (phone ~ '^[0-9]{9}$'),
    address          text NOT NULL DEFAULT '' CONSTRAINT deliverymen_address_check CHECK (char_length(address) <= 100),
    birth_date       date NOT NULL,
    sex              text NOT NULL CONSTRAINT deliverymen_sex_check CHECK (sex IN ('female', 'male', 'other')),
    -- stored upper-case, so the unique constraint is case-insensitive
    driver_license   text NOT NULL CONSTRAINT deliverymen_driver_license_check CHECK (driver_license ~ '^[A-Z0-9]{9}$'),
    available        boolean NOT NULL DEFAULT true,
    -- the courier user account (users service) that is this delivery man
    user_id          uuid,
    -- how many orders he may carry at once
    capacity         integer NOT NULL DEFAULT 3 CONSTRAINT deliverymen_capacity_check CHECK (capacity BETWEEN 1 AND 20),
    -- active assignments; kept in step with the assignments table in the same
    -- transaction, under the row lock that serialises assignments
    active_orders    integer NOT NULL DEFAULT 0 CONSTRAINT deliverymen_active_orders_check CHECK (active_orders >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT deliverymen_national_id_key UNIQUE (national_id),
    CONSTRAINT deliverymen_email_key UNIQUE (email),
    CONSTRAINT deliverymen_driver_license_key UNIQUE (driver_license),
    CONSTRAINT deliverymen_user_id_key UNIQUE (user_id)
);

-- One assignment per order: the order id is the idempotency key. A released
-- row stays as a tombstone so a late, retried assignment cannot take capacity;
-- a tombstone written before any assignment has no delivery man.
CREATE TABLE assignments (
    order_id        uuid PRIMARY KEY,
    delivery_man_id uuid REFERENCES delivery_men (id) ON DELETE SET NULL,
    status          text NOT NULL CONSTRAINT assignments_status_check CHECK (status IN ('active', 'released')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- an active assignment always names its delivery man (so deleting one who
    -- still has active orders fails here even if the service check were skipped)
    CONSTRAINT assignments_delivery_man_id_check CHECK (status = 'released' OR delivery_man_id IS NOT NULL)
);

CREATE INDEX assignments_delivery_man_idx ON assignments (delivery_man_id) WHERE status = 'active';

-- +goose Down
DROP TABLE assignments;
DROP TABLE delivery_men;
