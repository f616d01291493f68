CREATE TABLE accounts (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL UNIQUE,
	plan text NOT NULL DEFAULT 'free'
);
CREATE INDEX accounts_plan_idx ON accounts (plan);
