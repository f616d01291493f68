-- Numbered 10: sql-migrate orders numeric prefixes as numbers, so this runs
-- after 3_functions.sql (lexically it would sort first, before orders exists).

-- +migrate Up notransaction
CREATE INDEX CONCURRENTLY orders_status_created_at_idx ON orders (status, created_at);

-- +migrate Down notransaction
DROP INDEX CONCURRENTLY orders_status_created_at_idx;
