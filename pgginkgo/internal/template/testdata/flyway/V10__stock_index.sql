-- Needs 2: by name, V10 would sort before V2.
CREATE INDEX CONCURRENTLY stock_product_idx ON stock (product_id);
