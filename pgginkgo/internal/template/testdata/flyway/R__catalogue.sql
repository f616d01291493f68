-- Repeatable: applied after every versioned migration, so it sees price_cents.
CREATE OR REPLACE VIEW catalogue AS SELECT p.name, p.price_cents, coalesce(sum(s.qty), 0) AS qty FROM products p LEFT JOIN stock s ON s.product_id = p.id GROUP BY p.id;
