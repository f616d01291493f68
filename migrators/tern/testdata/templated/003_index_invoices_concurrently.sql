---- tern: disable-tx ----
CREATE INDEX CONCURRENTLY invoices_account_id_idx ON invoices (account_id);

---- create above / drop below ----
---- tern: disable-tx ----

DROP INDEX CONCURRENTLY invoices_account_id_idx;
