-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY orders_status_placed_at_idx ON orders (status, placed_at);

-- +goose Down
DROP INDEX CONCURRENTLY orders_status_placed_at_idx;
