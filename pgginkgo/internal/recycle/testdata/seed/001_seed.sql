INSERT INTO users (email, name) VALUES ('ada@example.com', 'Ada'), ('bob@example.com', 'Bob');
INSERT INTO products (sku, title, price, tags, attrs, weight) VALUES
	('tea', 'Tea', 450, '{drink}', '{"hot": true}', 0.1),
	('mug', 'Mug', 1200, '{}', '{}', 0.35),
	('cake', 'Cake', 300, '{food,"sweet; soft"}', '{"vegan": false}', NULL);
INSERT INTO orders (user_id, status, note) VALUES (1, 'paid', 'first'), (2, 'new', NULL);
INSERT INTO order_items VALUES (1, 'tea', 2), (1, 'mug', 1), (2, 'cake', 3);
INSERT INTO events (at, payload) VALUES ('2024-05-01', 'a'), ('2025-02-02', 'b');
INSERT INTO notes VALUES (1, 'welcome');
INSERT INTO order_notes VALUES (2, 'fragile', 1);
INSERT INTO documents VALUES (1, lo_from_bytea(0, 'hello, large object'));
SELECT nextval('invoice_numbers');
REFRESH MATERIALIZED VIEW product_count;
