-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY ledger_account_idx ON ledger (account_id);

-- +goose Down
DROP INDEX CONCURRENTLY ledger_account_idx;
