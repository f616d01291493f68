-- +goose Up
-- The Down section below drops accounts: applying the whole file, as a
-- plain SQL runner would, leaves the next file without its table.
CREATE TABLE ledger (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    cents      bigint NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION balance(acct bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total bigint;
BEGIN
    SELECT coalesce(sum(cents), 0) INTO total FROM ledger WHERE account_id = acct;
    RETURN total;
END;
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION balance(bigint);
DROP TABLE ledger;
DROP TABLE accounts;
