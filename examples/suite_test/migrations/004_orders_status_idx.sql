-- +goose NO TRANSACTION
-- +goose Up
-- Built without locking writes out, as it would be on a live database:
-- CREATE INDEX CONCURRENTLY cannot run in a transaction.
create index concurrently orders_status_idx on orders (status);

-- +goose Down
drop index concurrently orders_status_idx;
