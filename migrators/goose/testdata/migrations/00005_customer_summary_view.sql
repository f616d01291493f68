-- +goose Up
CREATE VIEW customer_summary AS
SELECT c.id,
       c.email,
       count(o.id)                      AS orders,
       coalesce(sum(o.total_cents), 0)  AS spent_cents
  FROM customers c
  LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled'
 GROUP BY c.id, c.email;

-- +goose Down
DROP VIEW customer_summary;
