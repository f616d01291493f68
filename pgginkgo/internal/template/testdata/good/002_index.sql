-- Built concurrently, so it must run outside a transaction.
-- pgginkgo:no-transaction
CREATE INDEX CONCURRENTLY users_email_lower ON users (lower(email));
CREATE INDEX CONCURRENTLY users_id_email ON users (id, email);
