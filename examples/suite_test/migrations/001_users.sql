-- +goose Up
-- Users sign up with an email address; the address is their identity, so it
-- is unique. Addresses are stored lower-case by the application (see shop.SignUp).
create table users (
    id         bigint generated always as identity primary key,
    email      text not null unique,
    created_at timestamptz not null default now()
);

-- +goose Down
drop table users;
