DROP TRIGGER order_items_refresh_total ON order_items;
DROP FUNCTION refresh_order_total();
DROP FUNCTION order_total(bigint);
