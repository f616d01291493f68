CREATE TABLE accounts (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email   text NOT NULL UNIQUE,
    balance numeric(12,2) NOT NULL DEFAULT 0
);
CREATE TABLE transfers (
    id         bigserial PRIMARY KEY,
    from_id    bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    to_id      bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    amount     numeric(12,2) NOT NULL CHECK (amount > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfers_from_idx ON transfers (from_id);
