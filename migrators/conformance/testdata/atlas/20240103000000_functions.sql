CREATE FUNCTION order_total(p_order_id bigint) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total numeric;
BEGIN
    SELECT coalesce(sum(quantity * unit_price), 0)
      INTO total
      FROM order_items
     WHERE order_id = p_order_id;
    IF total < 0 THEN
        RAISE EXCEPTION 'order % has a negative total', p_order_id;
    END IF
    ;
    RETURN total;
END;
$$;

CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$body$;

CREATE TRIGGER customers_touch_updated_at
    BEFORE UPDATE ON customers
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
