-- One account per customer, opened by customer.created with balance = credit_limit.
-- Invariant: balance = credit_limit + deposits - (sum of CHARGED payments of the customer).
CREATE TABLE accounts (
    customer_id  UUID PRIMARY KEY,
    credit_limit NUMERIC(14, 2) NOT NULL CHECK (credit_limit >= 0),
    deposits     NUMERIC(14, 2) NOT NULL DEFAULT 0 CHECK (deposits >= 0),
    -- The balance can never go negative, whatever a handler does.
    balance      NUMERIC(14, 2) NOT NULL CHECK (balance >= 0),
    opened_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per order, ever: the primary key is what makes "one charge per order" hold.
-- CANCELLED_BEFORE_CHARGE is the tombstone of a cancel seen before its order.created.
CREATE TABLE payments (
    order_id    UUID PRIMARY KEY,
    customer_id UUID NOT NULL,
    amount      NUMERIC(14, 2) NOT NULL CHECK (amount >= 0),
    status      TEXT NOT NULL
                CHECK (status IN ('CHARGED', 'REFUNDED', 'FAILED', 'CANCELLED_BEFORE_CHARGE')),
    reason      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'FAILED') = (reason IS NOT NULL))
);
CREATE INDEX payments_by_customer ON payments (customer_id, updated_at DESC);

-- When billing first saw an order whose account was not open yet: the wait for the account
-- is bounded from this moment. Written outside the handler's transaction (which a retry rolls
-- back), deleted when the order is settled.
CREATE TABLE account_waits (
    order_id   UUID PRIMARY KEY,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
