-- Needs 2: lexical order would run it before 2_invoices.
ALTER TABLE invoices ADD customer_id int REFERENCES customers (id);
