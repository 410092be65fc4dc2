-- GET /orders/summary without reading `orders`: the number of orders in each status, and the
-- sagas completed per second, kept up to date by triggers in the transaction of each change.
--
-- Each count is split over 16 slots, and a transaction adds to the slot of its id (xid % 16),
-- so concurrent transactions rarely wait on the same row; a status's count is the sum of its
-- slots. The triggers are deferred: they run at commit, after the transaction's every other
-- lock, so a counter row is never held while the transaction waits on an order row. At
-- commit a transaction updates a slot's PENDING row before its other rows (every change of
-- status leaves PENDING), so two transactions on one slot queue rather than deadlock.

CREATE TABLE order_counts (
    status  TEXT NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
    slot    SMALLINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (status, slot)
);

-- Orders that reached CONFIRMED or CANCELLED, per second (of the committing transaction's
-- clock) and slot. A transaction that opens a new second's row of its slot deletes that
-- slot's rows older than two minutes, so the table stays small.
CREATE TABLE order_completions (
    at_second  TIMESTAMPTZ NOT NULL,
    slot       SMALLINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (at_second, slot)
);

CREATE FUNCTION order_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s SMALLINT := (pg_current_xact_id()::text::bigint % 16)::smallint;
    now_n BIGINT;
BEGIN
    -- One statement per change; its rows are written in the order listed, the old status
    -- (PENDING, for every change of status) first.
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO order_counts AS c (status, slot, n) VALUES (OLD.status, s, -1), (NEW.status, s, 1)
            ON CONFLICT (status, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO order_counts AS c (status, slot, n) VALUES (NEW.status, s, 1)
            ON CONFLICT (status, slot) DO UPDATE SET n = c.n + 1;
    ELSE
        INSERT INTO order_counts AS c (status, slot, n) VALUES (OLD.status, s, -1)
            ON CONFLICT (status, slot) DO UPDATE SET n = c.n - 1;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status <> 'PENDING' THEN
        INSERT INTO order_completions AS c (at_second, slot, n)
            VALUES (date_trunc('second', clock_timestamp()), s, 1)
            ON CONFLICT (at_second, slot) DO UPDATE SET n = c.n + 1
            RETURNING c.n INTO now_n;
        IF now_n = 1 THEN
            DELETE FROM order_completions
                WHERE slot = s AND at_second < clock_timestamp() - interval '2 minutes';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- No order is written while the triggers are made and the counts seeded from what is there.
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;

CREATE CONSTRAINT TRIGGER orders_counted_insert AFTER INSERT ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_counts_track();
CREATE CONSTRAINT TRIGGER orders_counted_update AFTER UPDATE OF status ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION order_counts_track();
CREATE CONSTRAINT TRIGGER orders_counted_delete AFTER DELETE ON orders
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION order_counts_track();

INSERT INTO order_counts (status, slot, n)
    SELECT status, 0, count(*) FROM orders GROUP BY status;
INSERT INTO order_completions (at_second, slot, n)
    SELECT date_trunc('second', updated_at), 0, count(*) FROM orders
    WHERE status <> 'PENDING' AND updated_at > now() - interval '2 minutes'
    GROUP BY 1;
