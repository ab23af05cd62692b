-- Holds live in Redis; their effect on availability reaches the feed as coalesced
-- `availability_changed` events (one per (location, SKU) per second at most), written by the
-- service from what Redis holds, with the units held before and after. Balance events leave
-- `held` empty: the ledger does not know what Redis holds at that instant.
ALTER TABLE stock_events ADD COLUMN held_before bigint, ADD COLUMN held_after bigint,
    ADD CONSTRAINT stock_event_held_whole CHECK ((held_before IS NULL) = (held_after IS NULL)),
    ADD CONSTRAINT stock_event_held_range CHECK (held_before >= 0 AND held_after >= 0);

-- The units held per (SKU, location) the feed last said, so any instance writes the next
-- change from it.
CREATE TABLE held_published (
    sku_id      bigint NOT NULL REFERENCES skus (id),
    location_id bigint NOT NULL REFERENCES locations (id),
    held        bigint NOT NULL CONSTRAINT held_published_range CHECK (held >= 0),
    PRIMARY KEY (sku_id, location_id)
);
