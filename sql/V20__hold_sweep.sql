-- The sweep of held places (app/hold_events.rs): one row that says when it last ran and where
-- it stopped, so that across all instances it runs about once per interval, each sweep going
-- on where the last one stopped, instead of every instance asking Redis about every place.
CREATE TABLE hold_sweep (
    only_row          boolean PRIMARY KEY DEFAULT true CONSTRAINT hold_sweep_one_row CHECK (only_row),
    swept_at          timestamptz NOT NULL DEFAULT '-infinity',
    after_sku_id      bigint NOT NULL DEFAULT 0,
    after_location_id bigint NOT NULL DEFAULT 0
);
INSERT INTO hold_sweep DEFAULT VALUES;
