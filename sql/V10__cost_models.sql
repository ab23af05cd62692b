-- The chain's cost model is data: every version is kept, the newest applies, and each decision
-- records the version it was made with. Version 1 (the seeded defaults) is written by the
-- binary right after the migrations, from the same constants the code documents.
CREATE TABLE cost_models (
    version    bigint PRIMARY KEY CONSTRAINT cost_model_version_positive CHECK (version > 0),
    model      jsonb NOT NULL CONSTRAINT cost_model_is_object CHECK (jsonb_typeof(model) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL DEFAULT nullif(current_setting('allot.actor', true), '')
);

-- Per-location overrides of the model: handling cost, daily pick capacity, and whether the
-- location may send transfers to other stores.
ALTER TABLE locations
    ADD COLUMN handling_per_unit double precision
        CONSTRAINT location_handling_range CHECK (handling_per_unit BETWEEN 0 AND 10000000),
    ADD COLUMN pick_capacity_per_day bigint
        CONSTRAINT location_pick_capacity_range CHECK (pick_capacity_per_day BETWEEN 0 AND 100000000),
    ADD COLUMN transfers_out boolean NOT NULL DEFAULT true;

-- Rows decided before costs were data have no version.
ALTER TABLE orders ADD COLUMN cost_version bigint REFERENCES cost_models (version),
    ADD COLUMN decision jsonb CONSTRAINT order_decision_is_object CHECK (jsonb_typeof(decision) = 'object');
ALTER TABLE transfers ADD COLUMN cost_version bigint REFERENCES cost_models (version);
ALTER TABLE plans ADD COLUMN cost_version bigint REFERENCES cost_models (version);

-- Picks per source and day, for the daily capacity.
CREATE INDEX order_lines_source_location ON order_lines (source_location_id, order_id);

-- Walk-in sales per day of each (location, SKU), as the last planning run measured them:
-- routing keeps more of a fast seller back from online orders.
CREATE TABLE sales_velocity (
    location_id bigint NOT NULL REFERENCES locations (id),
    sku_id      bigint NOT NULL REFERENCES skus (id),
    per_day     double precision NOT NULL CONSTRAINT sales_velocity_range CHECK (per_day >= 0 AND per_day < 'Infinity'),
    measured_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku_id, location_id)
);
