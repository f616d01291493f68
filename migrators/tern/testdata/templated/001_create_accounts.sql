CREATE TABLE accounts (
    id       bigserial PRIMARY KEY,
    name     text NOT NULL,
    currency char(3) NOT NULL DEFAULT '{{ .default_currency }}',
    {{ template "shared/timestamps.sql" . }}
);

COMMENT ON TABLE accounts IS 'accounts of {{ .app_name }}';

---- create above / drop below ----

DROP TABLE accounts;
