-- Keeps customers.updated_at current. The semicolons on their own lines
-- are inside the dollar-quoted body, not statement ends.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now()
    ;
    IF NEW.status = 'suspended' AND OLD.status <> 'suspended' THEN
        RAISE NOTICE 'customer % suspended', NEW.id
        ;
    END IF
    ;
    RETURN NEW
    ;
END
$$;

CREATE TRIGGER customers_touch_updated_at
BEFORE UPDATE ON customers
FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

---- create above / drop below ----

DROP TRIGGER customers_touch_updated_at ON customers;
DROP FUNCTION touch_updated_at();
