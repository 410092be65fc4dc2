-- Reservations made with POST /stock/reserve, which DELETE /stock/reserve/{order_id} may
-- release. The saga's reservations are released only by their order's cancellation.
ALTER TABLE reservations ADD COLUMN manual BOOLEAN NOT NULL DEFAULT false;
