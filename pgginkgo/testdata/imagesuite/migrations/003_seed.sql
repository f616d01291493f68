INSERT INTO accounts (email, plan) VALUES ('ada@example.com', 'pro'), ('bob@example.com', 'free');
INSERT INTO invoices (account_id, cents) SELECT 1, g * 100 FROM generate_series(1, 25) g;
CREATE FUNCTION plan_count(p text) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM accounts WHERE plan = p $$;
