-- Keeps orders.total_cents equal to the sum of its items. The function
-- bodies hold semicolons, some on lines of their own, so goose needs
-- StatementBegin/StatementEnd to send each as one statement.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION order_total(p_order_id bigint) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
    total integer
;
BEGIN
    SELECT coalesce(sum(quantity * unit_cents), 0)::integer INTO total
      FROM order_items
     WHERE order_id = p_order_id
    ;
    RETURN total
    ;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION refresh_order_total() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE orders SET total_cents = order_total(OLD.order_id) WHERE id = OLD.order_id
        ;
        RETURN OLD;
    END IF;
    UPDATE orders SET total_cents = order_total(NEW.order_id) WHERE id = NEW.order_id
    ;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER order_items_refresh_total
    AFTER INSERT OR UPDATE OR DELETE ON order_items
    FOR EACH ROW EXECUTE FUNCTION refresh_order_total();

-- +goose Down
DROP TRIGGER order_items_refresh_total ON order_items;
DROP FUNCTION refresh_order_total();
DROP FUNCTION order_total(bigint);
