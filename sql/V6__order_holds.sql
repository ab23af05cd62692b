-- An order may be placed from a cart's hold: the hold is consumed by exactly one order, ever
-- (Redis decides the race first; this key decides it even after Redis lost the hold).
ALTER TABLE orders
    ADD COLUMN hold_id uuid CONSTRAINT orders_hold_id_key UNIQUE,
    ADD COLUMN hold_outcome text
        CONSTRAINT order_hold_outcome_known CHECK (hold_outcome IN ('consumed', 'expired', 'not_found', 'unavailable')),
    ADD CONSTRAINT order_hold_whole CHECK ((hold_id IS NULL) = (hold_outcome IS NULL));
