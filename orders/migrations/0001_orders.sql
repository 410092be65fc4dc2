-- Replica of the customers the customer service announced (customer.created).
CREATE TABLE customers (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    replicated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Replica of the catalogue: the latest name and price of each SKU (stock.updated).
CREATE TABLE products (
    sku         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    price       NUMERIC(14, 2) NOT NULL CHECK (price >= 0),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per order: its saga state. `stock_reserved` and `paid` record the successes seen
-- while PENDING; both true is CONFIRMED, never PENDING.
CREATE TABLE orders (
    id               UUID PRIMARY KEY,
    customer_id      UUID NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'CANCELLED')),
    stock_reserved   BOOLEAN NOT NULL DEFAULT false,
    paid             BOOLEAN NOT NULL DEFAULT false,
    reason           TEXT,
    total            NUMERIC(20, 2) NOT NULL CHECK (total >= 0),
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- The Idempotency-Key of the POST that created the order, and that request (normalized),
    -- so a retry with the same key is recognised without a read-then-write race.
    idempotency_key  TEXT,
    request          JSONB NOT NULL,
    CHECK (NOT (status = 'PENDING' AND stock_reserved AND paid)),
    CHECK ((status = 'CANCELLED') = (reason IS NOT NULL))
);
CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
CREATE INDEX orders_pending ON orders (created_at) WHERE status = 'PENDING';

CREATE TABLE order_lines (
    order_id    UUID NOT NULL REFERENCES orders (id),
    line_no     INTEGER NOT NULL,
    sku         TEXT NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price  NUMERIC(14, 2) NOT NULL CHECK (unit_price >= 0),
    PRIMARY KEY (order_id, line_no)
);

-- Each saga event an order has seen, once per event type, in the order seen.
CREATE TABLE order_history (
    seq         BIGSERIAL,
    order_id    UUID NOT NULL REFERENCES orders (id),
    event_type  TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (order_id, event_type)
);
