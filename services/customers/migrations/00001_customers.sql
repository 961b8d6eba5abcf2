-- +goose Up
-- Constraints are named <table>_<field>_<kind> so that pg.Error can name the
-- field of a violation (409 for a duplicate national_id or email).
CREATE TABLE customers (
    id               uuid PRIMARY KEY,
    first_name       text NOT NULL CONSTRAINT customers_first_name_check CHECK (char_length(first_name) BETWEEN 1 AND 100),
    paternal_surname text NOT NULL CONSTRAINT customers_paternal_surname_check CHECK (char_length(paternal_surname) BETWEEN 1 AND 100),
    maternal_surname text NOT NULL CONSTRAINT customers_maternal_surname_check CHECK (char_length(maternal_surname) BETWEEN 1 AND 100),
    national_id      text NOT NULL CONSTRAINT customers_national_id_check CHECK (national_id ~ '^[0-9]{8}$'),
    -- stored lower-case, so the unique constraint is case-insensitive
    email            text NOT NULL CONSTRAINT customers_email_check CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254),
    phone            text NOT NULL CONSTRAINT customers_phone_check CHECK (phone ~ '^[0-9]{9}$'),
    address          text NOT NULL DEFAULT '' CONSTRAINT customers_address_check CHECK (char_length(address) <= 100),
    birth_date       date NOT NULL,
    sex              text NOT NULL CONSTRAINT customers_sex_check CHECK (sex IN ('female', 'male', 'other')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_national_id_key UNIQUE (national_id),
    CONSTRAINT customers_email_key UNIQUE (email)
);

-- +goose Down
DROP TABLE customers;
