-- The chain's figures per SKU (the sum a web shop sells from), kept by the relay as it numbers
-- events: each numbered batch adds its changes, and a crossing of the chain's total (to or
-- from zero available, below the chain's low-stock threshold) is an event of its own, with no
-- location. `version` is those events' sequence.
ALTER TABLE stock_events ALTER COLUMN location_id DROP NOT NULL;

CREATE TABLE chain_stock (
    sku_id     bigint PRIMARY KEY REFERENCES skus (id),
    on_hand    bigint NOT NULL,
    allocated  bigint NOT NULL,
    in_transit bigint NOT NULL,
    available  bigint NOT NULL CONSTRAINT chain_stock_available_range CHECK (available >= 0),
    version    bigint NOT NULL DEFAULT 0 CONSTRAINT chain_stock_version_range CHECK (version >= 0)
);

-- As numbered so far: today's balances less what events not yet numbered will add.
INSERT INTO chain_stock (sku_id, on_hand, allocated, in_transit, available)
SELECT sku_id, sum(on_hand), sum(allocated), sum(in_transit), sum(available)
FROM (
    SELECT b.sku_id, b.on_hand, b.allocated, b.in_transit,
           greatest(b.on_hand - b.allocated - l.safety_stock, 0) AS available
    FROM balances b JOIN locations l ON l.id = b.location_id
    UNION ALL
    SELECT sku_id, -(on_hand_after - on_hand_before), -(allocated_after - allocated_before),
           -(in_transit_after - in_transit_before), -(available_after - available_before)
    FROM stock_events WHERE position IS NULL AND kind = 'availability_changed'
) figures
GROUP BY sku_id;
