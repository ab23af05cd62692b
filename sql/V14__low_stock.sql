-- A per-location threshold for `low_stock` events: one fires when a (location, SKU)'s
-- available falls from the threshold or more to below it (0, the default: never). The event
-- trigger is the one of V8 with that crossing added.
ALTER TABLE locations ADD COLUMN low_stock_below bigint NOT NULL DEFAULT 0
    CONSTRAINT location_low_stock_below_range CHECK (low_stock_below BETWEEN 0 AND 100000);

CREATE OR REPLACE FUNCTION record_stock_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_events (sku_id, location_id, sequence, kind,
        on_hand_before, allocated_before, in_transit_before, available_before,
        on_hand_after, allocated_after, in_transit_after, available_after, cause)
    SELECT c.sku_id, c.location_id, c.version, k.kind,
           c.on_hand_before, c.allocated_before, c.in_transit_before, c.available_before,
           c.on_hand_after, c.allocated_after, c.in_transit_after, c.available_after, c.cause
    FROM (
        SELECT n.sku_id, n.location_id, n.version,
               o.on_hand AS on_hand_before, o.allocated AS allocated_before,
               o.in_transit AS in_transit_before,
               greatest(o.on_hand - o.allocated - l.safety_stock, 0) AS available_before,
               n.on_hand AS on_hand_after, n.allocated AS allocated_after,
               n.in_transit AS in_transit_after,
               greatest(n.on_hand - n.allocated - l.safety_stock, 0) AS available_after,
               l.low_stock_below,
               coalesce(nullif(current_setting('allot.cause', true), '')::jsonb, '{}'::jsonb)
                   || jsonb_build_object('actor', nullif(current_setting('allot.actor', true), ''))
                   AS cause
        FROM new_rows n
        JOIN old_rows o ON o.sku_id = n.sku_id AND o.location_id = n.location_id
        JOIN locations l ON l.id = n.location_id
        WHERE (n.on_hand, n.allocated, n.in_transit) IS DISTINCT FROM (o.on_hand, o.allocated, o.in_transit)
    ) c
    CROSS JOIN LATERAL (
        SELECT 'availability_changed' AS kind
        UNION ALL SELECT 'out_of_stock' WHERE c.available_before > 0 AND c.available_after = 0
        UNION ALL SELECT 'back_in_stock' WHERE c.available_before = 0 AND c.available_after > 0
        UNION ALL SELECT 'low_stock' WHERE c.available_before >= c.low_stock_below
                                       AND c.available_after < c.low_stock_below
    ) k;
    RETURN NULL;
END $$;

