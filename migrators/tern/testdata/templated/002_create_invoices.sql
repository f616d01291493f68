CREATE TABLE invoices (
    id         bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES accounts (id),
    cents      integer NOT NULL,
    {{ template "shared/timestamps.sql" . }}
);

---- create above / drop below ----

DROP TABLE invoices;
