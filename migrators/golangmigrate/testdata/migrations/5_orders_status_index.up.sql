-- The only statement in its file: golang-migrate sends it alone, outside
-- any transaction block, which CREATE INDEX CONCURRENTLY requires.
CREATE INDEX CONCURRENTLY orders_status_placed_at_idx ON orders (status, placed_at);
