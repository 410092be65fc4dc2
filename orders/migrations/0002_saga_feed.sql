-- The saga feed (GET /orders/stream, the console): each history row also records the order's
-- status and reason right after the step that wrote it, and the id of the transaction that
-- wrote it.
--
-- `seq` alone cannot be a resume cursor: it is drawn when a row is inserted, so a transaction
-- that commits later can hold a smaller one than a row already sent. The feed instead reads
-- rows in (xid, seq) order and only those of transactions older than every transaction still
-- running (below the snapshot's xmin): such a row is either visible now or never will be, so a
-- cursor never passes a row that appears afterwards.
ALTER TABLE order_history
    ADD COLUMN status TEXT CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
    ADD COLUMN reason TEXT,
    ADD COLUMN xid    xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX order_history_feed ON order_history (xid, seq);

-- GET /orders?status=&limit=&before=: the newest orders, of every customer or of one status.
CREATE INDEX orders_newest ON orders (created_at DESC, id DESC);
CREATE INDEX orders_by_status ON orders (status, created_at DESC, id DESC);
