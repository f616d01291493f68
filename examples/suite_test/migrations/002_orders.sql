-- +goose Up
-- An order belongs to one user and goes when the user goes (account deletion
-- must not leave orphaned orders behind). Money is kept in integer cents.
create table orders (
    id          bigint generated always as identity primary key,
    user_id     bigint not null references users (id) on delete cascade,
    total_cents integer not null check (total_cents > 0),
    status      text not null default 'pending'
);

create index orders_user_id_idx on orders (user_id);

-- +goose Down
drop table orders;
