-- +goose Up
-- A later change to an earlier table.
ALTER TABLE accounts ADD COLUMN note text;

-- +goose Down
ALTER TABLE accounts DROP COLUMN note;
