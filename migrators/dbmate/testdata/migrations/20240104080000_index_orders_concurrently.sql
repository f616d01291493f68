-- migrate:up transaction:false
-- CREATE INDEX CONCURRENTLY cannot run in a transaction, nor with other
-- statements in the same query: one statement per such migration.
CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY orders_customer_id_idx;
