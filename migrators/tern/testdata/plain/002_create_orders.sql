CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    sku         text NOT NULL UNIQUE,
    price_cents integer NOT NULL CHECK (price_cents >= 0)
);

CREATE TABLE orders (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    placed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE order_lines (
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE INDEX order_lines_product_id_idx ON order_lines (product_id);

CREATE VIEW order_totals AS
SELECT o.id AS order_id, o.customer_id, sum(l.quantity * p.price_cents) AS total_cents
FROM orders o
JOIN order_lines l ON l.order_id = o.id
JOIN products p ON p.id = l.product_id
GROUP BY o.id, o.customer_id;

---- create above / drop below ----

DROP VIEW order_totals;
DROP TABLE order_lines;
DROP TABLE orders;
DROP TABLE products;
