-- +migrate Up
CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    status      order_status NOT NULL DEFAULT 'pending',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

CREATE TABLE order_items (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    sku        text NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(12, 2) NOT NULL,
    PRIMARY KEY (order_id, sku)
);

CREATE VIEW customer_order_totals AS
SELECT c.id AS customer_id, c.email, count(DISTINCT o.id) AS orders,
       coalesce(sum(i.quantity * i.unit_price), 0) AS spent
  FROM customers c
  LEFT JOIN orders o ON o.customer_id = c.id
  LEFT JOIN order_items i ON i.order_id = o.id
 GROUP BY c.id, c.email;

-- +migrate Down
DROP VIEW customer_order_totals;
DROP TABLE order_items;
DROP TABLE orders;
