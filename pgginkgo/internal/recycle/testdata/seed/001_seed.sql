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
INSERT INTO value_zoo VALUES (
	1, '\x00ff5c27'::bytea, 12.34, '1 year 2 mons 3 days 04:05:06.789', '2024-02-29 23:59:59.999999',
	'2024-06-01 12:00:00+02', '0044-03-15 BC', '{0.1, NaN, Infinity, -Infinity, 1e-300}', 3.4028235e38,
	'NaN', '(1.5,-2)', 'a fat:1 cat:2', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '10.1.2.3/8', B'1011',
	'[3,7)', ROW(9.99, 'EUR'), 'products', '{"b": 1,  "a": [true, null]}',
	E'line one\nline "two"\ttab \\ backslash, comma (paren) ''quote''', '<a x="1">t</a>');
INSERT INTO value_zoo (id) VALUES (2);
REFRESH MATERIALIZED VIEW product_count;
