-- +goose Up
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL CONSTRAINT users_email_check CHECK (char_length(email) BETWEEN 3 AND 254),
    name          text NOT NULL CONSTRAINT users_name_check CHECK (char_length(name) BETWEEN 1 AND 100),
    -- bcrypt hash; the password itself is never stored
    password_hash text NOT NULL,
    role          text NOT NULL CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'courier', 'service')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Email is unique case-insensitively. Named <table>_<field>_key so that a
-- violation is reported on the field "email".
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role_idx ON users (role, id);

-- The Ed25519 keys tokens are signed with: kept in the database so that they
-- survive restarts and every replica signs with the same key. The newest key
-- signs; every key is published in the JWKS (room for rotation).
CREATE TABLE signing_keys (
    kid         text PRIMARY KEY CONSTRAINT signing_keys_kid_check CHECK (char_length(kid) BETWEEN 1 AND 64),
    -- the 32-byte Ed25519 seed (RFC 8032 private key)
    private_key bytea NOT NULL CONSTRAINT signing_keys_private_key_check CHECK (octet_length(private_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE users;
