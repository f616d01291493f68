-- +goose Up
-- When an order was paid, recorded by the database itself so that no code
-- path that marks an order paid can forget it.
alter table orders add column paid_at timestamptz;

-- The function body holds semicolons: StatementBegin/StatementEnd keep it
-- one statement.
-- +goose StatementBegin
create function orders_set_paid_at() returns trigger language plpgsql as $$
begin
    if new.status = 'paid' and old.status is distinct from 'paid' then
        new.paid_at := now();
    end if;
    return new;
end;
$$;
-- +goose StatementEnd

create trigger orders_paid_at before update of status on orders
    for each row execute function orders_set_paid_at();

-- +goose Down
drop trigger orders_paid_at on orders;
drop function orders_set_paid_at();
alter table orders drop column paid_at;
