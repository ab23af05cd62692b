-- Allocations: units promised to confirmed holds and orders. They change allocated, never on hand.
ALTER TABLE movements DROP CONSTRAINT movement_kind_effect;
ALTER TABLE movements ADD CONSTRAINT movement_kind_effect CHECK (
    (kind = 'receipt'    AND qty > 0 AND on_hand_delta = qty  AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'return'     AND qty > 0 AND on_hand_delta = qty  AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'sale'       AND qty > 0 AND on_hand_delta = -qty AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'adjustment' AND qty = abs(on_hand_delta) AND qty > 0 AND reason IS NOT NULL
                         AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'count'      AND allocated_delta = 0 AND in_transit_delta = 0) OR
    (kind = 'allocation' AND qty > 0 AND allocated_delta = qty AND on_hand_delta = 0 AND in_transit_delta = 0)
);
