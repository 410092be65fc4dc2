-- Products and their stock. Every unit ever received is in exactly one of available, reserved
-- or sold; the CHECKs make any write that breaks that, or goes below zero, fail.
CREATE TABLE products (
    sku                 TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    price               NUMERIC(14, 2) NOT NULL CHECK (price >= 0),
    available           BIGINT NOT NULL CHECK (available >= 0),
    reserved            BIGINT NOT NULL CHECK (reserved >= 0),
    sold                BIGINT NOT NULL CHECK (sold >= 0),
    low_stock_threshold BIGINT NOT NULL CHECK (low_stock_threshold >= 0),
    initial             BIGINT NOT NULL CHECK (initial >= 0),
    restocked           BIGINT NOT NULL DEFAULT 0 CHECK (restocked >= 0),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT products_balanced CHECK (initial + restocked = available + reserved + sold)
);

-- One reservation per order, whatever asked for it; TOMBSTONE records a cancel seen before
-- the order's creation. items: [{"sku": ..., "quantity": ...}], one per SKU, sorted.
CREATE TABLE reservations (
    order_id   UUID PRIMARY KEY,
    status     TEXT NOT NULL
               CHECK (status IN ('RESERVED', 'SOLD', 'RELEASED', 'REJECTED', 'TOMBSTONE')),
    items      JSONB NOT NULL DEFAULT '[]',
    reason     TEXT CHECK (reason IN ('out_of_stock', 'unknown_sku')),
    short_skus TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'REJECTED') = (reason IS NOT NULL))
);
