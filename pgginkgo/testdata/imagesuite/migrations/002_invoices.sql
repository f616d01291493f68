CREATE TABLE invoices (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	cents integer NOT NULL CHECK (cents >= 0),
	issued date NOT NULL DEFAULT DATE '2026-01-01'
);
CREATE INDEX invoices_account_idx ON invoices (account_id);
CREATE VIEW account_totals AS
	SELECT a.email, sum(i.cents) AS cents FROM accounts a JOIN invoices i ON i.account_id = a.id GROUP BY a.email;
