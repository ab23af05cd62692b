-- Stock events: every committed change of a (location, SKU)'s figures. A trigger on balances
-- writes them in the statement that changes the balance, so no write path can forget one and
-- none is invented: an event commits or rolls back with its change. Its cause is what the
-- writing transaction named first (`allot.cause`, `allot.actor`, see ledger::act_as).
--
-- `position` is the global order consumers follow. It is given after commit, by the relay, in
-- one serialized step (an advisory lock) to every committed event still without one: a
-- consumer reading `position > cursor` never misses an event that committed late. Within one
-- (location, SKU) events commit in `sequence` order (the balance row's lock), and the relay
-- numbers them in that order.
CREATE TABLE stock_events (
    -- Stable, and cheap to index: a random key would land each insert on a random page.
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    position          bigint CONSTRAINT stock_events_position_key UNIQUE,
    sku_id            bigint NOT NULL,
    location_id       bigint NOT NULL,
    sequence          bigint NOT NULL,
    kind              text NOT NULL CONSTRAINT stock_event_kind_known
                      CHECK (kind IN ('availability_changed', 'out_of_stock', 'back_in_stock', 'low_stock')),
    on_hand_before    bigint NOT NULL,
    allocated_before  bigint NOT NULL,
    in_transit_before bigint NOT NULL,
    available_before  bigint NOT NULL,
    on_hand_after     bigint NOT NULL,
    allocated_after   bigint NOT NULL,
    in_transit_after  bigint NOT NULL,
    available_after   bigint NOT NULL,
    cause             jsonb NOT NULL CONSTRAINT stock_event_cause_object CHECK (jsonb_typeof(cause) = 'object'),
    at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_events_unpositioned ON stock_events (sku_id, location_id, sequence)
    WHERE position IS NULL;

-- Available as lookups count it before holds: on hand − allocated − safety stock, at least 0.
CREATE FUNCTION record_stock_events() RETURNS trigger LANGUAGE plpgsql AS $$
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
    ) k;
    RETURN NULL;
END $$;

CREATE TRIGGER balances_record_events AFTER UPDATE ON balances
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION record_stock_events();
