-- atlas:txmode none

-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block: the
-- directive above (a file directive, so followed by a blank line) makes
-- atlas migrate apply run this file outside one.
CREATE INDEX CONCURRENTLY orders_status_created_at_idx ON orders (status, created_at);
