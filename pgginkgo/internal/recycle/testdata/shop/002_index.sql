-- pgginkgo:no-transaction
CREATE INDEX CONCURRENTLY products_title_idx ON products (title);
