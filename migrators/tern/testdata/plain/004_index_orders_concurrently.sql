---- tern: disable-tx ----
-- CREATE INDEX CONCURRENTLY cannot run in a transaction; tern runs these
-- statements one by one.
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);
CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at DESC);

---- create above / drop below ----
---- tern: disable-tx ----

DROP INDEX CONCURRENTLY orders_placed_at_idx;
DROP INDEX CONCURRENTLY orders_customer_id_idx;
