-- The counters of 0003 in one row per slot, written with plain updates.
--
-- 0003 kept a row per status and slot, written with `INSERT … ON CONFLICT DO UPDATE`. On a row
-- that exists, that locks the row, then updates it: two WAL records. And a change of status
-- wrote two rows, the old status's and the new one's. Here a slot's row holds all three counts
-- and every slot's row is made once, so a change is one plain update of one row (a HOT update,
-- one WAL record). A completion adds one more write (an insert once per second and slot).
-- The triggers stay deferred: a transaction writes its counts at commit, its slot's row before
-- its completions' row, so two transactions on one slot queue rather than deadlock.

-- No order is written while the counts move to the new table.
LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE order_status_counts (
    slot       SMALLINT PRIMARY KEY CHECK (slot BETWEEN 0 AND 15),
    pending    BIGINT NOT NULL DEFAULT 0,
    confirmed  BIGINT NOT NULL DEFAULT 0,
    cancelled  BIGINT NOT NULL DEFAULT 0
);

INSERT INTO order_status_counts (slot) SELECT generate_series(0, 15);
UPDATE order_status_counts SET
    pending = (SELECT coalesce(sum(n), 0) FROM order_counts WHERE status = 'PENDING'),
    confirmed = (SELECT coalesce(sum(n), 0) FROM order_counts WHERE status = 'CONFIRMED'),
    cancelled = (SELECT coalesce(sum(n), 0) FROM order_counts WHERE status = 'CANCELLED')
WHERE slot = 0;

CREATE OR REPLACE FUNCTION order_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    s SMALLINT := (pg_current_xact_id()::text::bigint % 16)::smallint;
    was TEXT := CASE WHEN TG_OP <> 'INSERT' THEN OLD.status END;
    is_now TEXT := CASE WHEN TG_OP <> 'DELETE' THEN NEW.status END;
    sec TIMESTAMPTZ;
    now_n BIGINT;
BEGIN
    UPDATE order_status_counts SET
        pending = pending + (is_now IS NOT DISTINCT FROM 'PENDING')::int
                          - (was IS NOT DISTINCT FROM 'PENDING')::int,
        confirmed = confirmed + (is_now IS NOT DISTINCT FROM 'CONFIRMED')::int
                              - (was IS NOT DISTINCT FROM 'CONFIRMED')::int,
        cancelled = cancelled + (is_now IS NOT DISTINCT FROM 'CANCELLED')::int
                              - (was IS NOT DISTINCT FROM 'CANCELLED')::int
    WHERE slot = s;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'order_status_counts has no row for slot %', s;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status <> 'PENDING' THEN
        sec := date_trunc('second', clock_timestamp());
        UPDATE order_completions SET n = n + 1 WHERE at_second = sec AND slot = s;
        IF NOT FOUND THEN
            INSERT INTO order_completions AS c (at_second, slot, n) VALUES (sec, s, 1)
                ON CONFLICT (at_second, slot) DO UPDATE SET n = c.n + 1
                RETURNING c.n INTO now_n;
            IF now_n = 1 THEN
                DELETE FROM order_completions
                    WHERE slot = s AND at_second < clock_timestamp() - interval '2 minutes';
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

DROP TABLE order_counts;
