-- migrate:up
-- A shorter version, written by hand: dbmate orders migrations by file
-- name, so this runs after 20240104080000_index_orders_concurrently.sql
-- ("20240104" then "0" sorts before "1"), although 2024010412 is the
-- smaller number, and the index it comments on exists by then.
COMMENT ON INDEX orders_customer_id_idx IS 'orders by customer, for the account page';

-- migrate:down
COMMENT ON INDEX orders_customer_id_idx IS NULL;
