-- A location's safety stock is part of every one of its balances' availability: changing it
-- is a stock event for each balance whose available moves (with its crossings), written in the
-- statement that changes it. The balance's version does not move (its figures did not), so the
-- event's sequence equals the balance's last one.
CREATE FUNCTION record_safety_stock_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_events (sku_id, location_id, sequence, kind,
        on_hand_before, allocated_before, in_transit_before, available_before,
        on_hand_after, allocated_after, in_transit_after, available_after, cause)
    SELECT c.sku_id, c.location_id, c.version, k.kind,
           c.on_hand, c.allocated, c.in_transit, c.available_before,
           c.on_hand, c.allocated, c.in_transit, c.available_after, c.cause
    FROM (
        SELECT b.sku_id, b.location_id, b.version, b.on_hand, b.allocated, b.in_transit,
               greatest(b.on_hand - b.allocated - o.safety_stock, 0) AS available_before,
               greatest(b.on_hand - b.allocated - n.safety_stock, 0) AS available_after,
               n.low_stock_below,
               coalesce(nullif(current_setting('allot.cause', true), '')::jsonb, '{}'::jsonb)
                   || jsonb_build_object('actor', nullif(current_setting('allot.actor', true), ''))
                   AS cause
        FROM new_rows n
        JOIN old_rows o ON o.id = n.id
        JOIN balances b ON b.location_id = n.id
        WHERE n.safety_stock <> o.safety_stock
    ) c
    CROSS JOIN LATERAL (
        SELECT 'availability_changed' AS kind WHERE c.available_before <> c.available_after
        UNION ALL SELECT 'out_of_stock' WHERE c.available_before > 0 AND c.available_after = 0
        UNION ALL SELECT 'back_in_stock' WHERE c.available_before = 0 AND c.available_after > 0
        UNION ALL SELECT 'low_stock' WHERE c.available_before >= c.low_stock_below
                                       AND c.available_after < c.low_stock_below
    ) k;
    RETURN NULL;
END $$;

CREATE TRIGGER locations_record_safety_stock_events AFTER UPDATE ON locations
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_safety_stock_events();
