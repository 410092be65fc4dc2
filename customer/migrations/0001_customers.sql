CREATE TABLE customers (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    email        TEXT NOT NULL,
    credit_limit NUMERIC(14, 2) NOT NULL CHECK (credit_limit >= 0),
    created_at   TIMESTAMPTZ NOT NULL
);
-- Email uniqueness is enforced here, not by a read-then-write check.
CREATE UNIQUE INDEX customers_email ON customers (email);
