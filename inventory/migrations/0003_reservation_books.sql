-- The saga's reservations and the manual ones (POST /stock/reserve) are two books: an order id
-- may have one reservation in each, and neither path reads or writes the other's (SPEC §7: the
-- saga never adopts a manual reservation, and a manual request never touches the saga's).
-- `manual` joins the key. Rows made by hand before this keep manual = true, so they stay the
-- operator's to release; one the saga had adopted under its order id is no longer seen by the
-- saga either (its order's confirmation or cancellation leaves it alone).
ALTER TABLE reservations DROP CONSTRAINT reservations_pkey;
ALTER TABLE reservations ADD PRIMARY KEY (order_id, manual);
