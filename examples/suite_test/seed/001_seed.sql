-- A known starting point for specs that need existing customers: two users,
-- one of whom has already ordered. Ids are given explicitly so specs can refer
-- to them; the sequences are moved past them so new rows do not collide.
insert into users (id, email) overriding system value values
    (1, 'ann@example.com'),
    (2, 'bob@example.com');

insert into orders (id, user_id, total_cents, status) overriding system value values
    (1, 1, 2500, 'paid');

select setval(pg_get_serial_sequence('users', 'id'), 2);
select setval(pg_get_serial_sequence('orders', 'id'), 1);
