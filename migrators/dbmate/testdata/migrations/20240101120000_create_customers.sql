-- migrate:up
-- Customers and the states their accounts go through.
CREATE TYPE customer_status AS ENUM ('pending', 'active', 'suspended');

CREATE TABLE customers (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL UNIQUE,
    status     customer_status NOT NULL DEFAULT 'pending',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE customers;
DROP TYPE customer_status;
