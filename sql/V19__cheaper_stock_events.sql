-- Three changes to what each new stock event costs and how long it waits for its position.
--
-- 1. The relay numbers committed events oldest first (by id), not in (SKU, location, sequence)
--    order across the whole backlog: with more unnumbered events than one round takes, the old
--    order let every new event of a low SKU go before an older one of a high SKU, so under
--    full ingest the last SKUs waited for many rounds (the tail of the lag to NATS). Id order
--    keeps each (location, SKU)'s order: the next change of a balance waits for the balance's
--    row lock, so its event is inserted, and draws its id, after the previous one committed.
--    A round still numbers its own events in (SKU, location, sequence) order. The index of the
--    unnumbered is on id alone: narrower, and each new event lands on its right edge instead
--    of on a page chosen by SKU.
-- 2. Positions stay unique, but an event is only entered in that index once it has one: the
--    unique constraint indexed every new event's NULL too, one index write per event for
--    nothing. Every reader asks for `position > p` or max(position), which imply NOT NULL.
--    The planner does not probe a partial index for a column's current maximum, so it guesses
--    one row for any range of new positions: the statements over such ranges (the relay's
--    chain totals, src/ledger/events.rs) are written to be cheap whatever it guesses.
DROP INDEX stock_events_unpositioned;
CREATE INDEX stock_events_unnumbered ON stock_events (id) WHERE position IS NULL;

CREATE UNIQUE INDEX stock_events_position ON stock_events (position) WHERE position IS NOT NULL;
ALTER TABLE stock_events DROP CONSTRAINT stock_events_position_key;

-- 3. The trigger reads the transaction's cause once per statement, not once per changed row:
--    parsing the same JSON a thousand times was a measurable share of a POS batch's work.
--    Otherwise the trigger is the one of V14.
CREATE OR REPLACE FUNCTION record_stock_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    this_cause jsonb := coalesce(nullif(current_setting('allot.cause', true), '')::jsonb, '{}'::jsonb)
        || jsonb_build_object('actor', nullif(current_setting('allot.actor', true), ''));
BEGIN
    INSERT INTO stock_events (sku_id, location_id, sequence, kind,
        on_hand_before, allocated_before, in_transit_before, available_before,
        on_hand_after, allocated_after, in_transit_after, available_after, cause)
    SELECT c.sku_id, c.location_id, c.version, k.kind,
           c.on_hand_before, c.allocated_before, c.in_transit_before, c.available_before,
           c.on_hand_after, c.allocated_after, c.in_transit_after, c.available_after, this_cause
    FROM (
        SELECT n.sku_id, n.location_id, n.version,
               o.on_hand AS on_hand_before, o.allocated AS allocated_before,
               o.in_transit AS in_transit_before,
               greatest(o.on_hand - o.allocated - l.safety_stock, 0) AS available_before,
               n.on_hand AS on_hand_after, n.allocated AS allocated_after,
               n.in_transit AS in_transit_after,
               greatest(n.on_hand - n.allocated - l.safety_stock, 0) AS available_after,
               l.low_stock_below
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
