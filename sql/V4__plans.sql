-- Planning runs: warehouse → store replenishment and the nightly store ↔ store rebalance. A plan
-- is computed in chunks of SKUs (cursor_sku_id says how far it got) and committed in batches of
-- lines (a line's transfer_id says it is done), so a run killed at any point resumes where it
-- stopped and never creates a transfer twice.

CREATE TABLE plans (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CONSTRAINT plan_kind_known CHECK (kind IN ('rebalance', 'replenishment')),
    run_date         date NOT NULL,
    status           text NOT NULL DEFAULT 'running'
                     CONSTRAINT plan_status_known CHECK (status IN ('running', 'proposed', 'committing', 'committed')),
    -- The run asked to commit once computed (a dry run stops at 'proposed').
    commit_requested boolean NOT NULL,
    params           jsonb NOT NULL CONSTRAINT plan_params_object CHECK (jsonb_typeof(params) = 'object'),
    cursor_sku_id    bigint NOT NULL DEFAULT 0,
    skus_considered  bigint NOT NULL DEFAULT 0 CONSTRAINT plan_skus_considered_range CHECK (skus_considered >= 0),
    -- Net gain of the greedy baseline on the same data, for the report's comparison.
    greedy_net       double precision NOT NULL DEFAULT 0,
    greedy_transfers bigint NOT NULL DEFAULT 0,
    solver_fallbacks bigint NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    committed_at     timestamptz,
    CONSTRAINT plan_finished_when_done CHECK ((status = 'running') = (finished_at IS NULL)),
    CONSTRAINT plan_committed_when_committed CHECK ((status = 'committed') = (committed_at IS NOT NULL))
);
-- One night, one committed plan per kind; and at most one unfinished computation to resume.
CREATE UNIQUE INDEX plans_one_committed_per_night ON plans (kind, run_date)
    WHERE status IN ('committing', 'committed');
CREATE UNIQUE INDEX plans_one_running_per_night ON plans (kind, run_date) WHERE status = 'running';
CREATE INDEX plans_by_kind_time ON plans (kind, id DESC);

CREATE TABLE plan_lines (
    plan_id          bigint NOT NULL REFERENCES plans (id),
    sku_id           bigint NOT NULL REFERENCES skus (id),
    from_location_id bigint NOT NULL REFERENCES locations (id),
    to_location_id   bigint NOT NULL REFERENCES locations (id),
    qty              bigint NOT NULL CONSTRAINT plan_line_qty_positive CHECK (qty > 0),
    distance_km      double precision NOT NULL CONSTRAINT plan_line_distance_range CHECK (distance_km >= 0),
    lead_time_hours  double precision NOT NULL CONSTRAINT plan_line_lead_time_range CHECK (lead_time_hours >= 0),
    gain             double precision NOT NULL,
    cost             double precision NOT NULL CONSTRAINT plan_line_cost_range CHECK (cost >= 0),
    -- Positions (on hand − allocated + in transit) and daily demand when planned, for the chart.
    from_position    bigint NOT NULL,
    to_position      bigint NOT NULL,
    to_demand_per_day double precision NOT NULL CONSTRAINT plan_line_demand_range CHECK (to_demand_per_day >= 0),
    -- Set when committed: the transfer, or why the line was dropped (the source sold the units).
    transfer_id      bigint CONSTRAINT plan_lines_transfer_key UNIQUE REFERENCES transfers (id),
    dropped          text CONSTRAINT plan_line_dropped_length CHECK (length(dropped) BETWEEN 1 AND 200),
    PRIMARY KEY (plan_id, sku_id, from_location_id, to_location_id),
    CONSTRAINT plan_line_two_places CHECK (from_location_id <> to_location_id),
    CONSTRAINT plan_line_done_once CHECK (transfer_id IS NULL OR dropped IS NULL)
);
CREATE INDEX plan_lines_by_destination ON plan_lines (plan_id, to_location_id);

-- SKUs a plan looked at and left alone, and why.
CREATE TABLE plan_skipped (
    plan_id bigint NOT NULL REFERENCES plans (id),
    sku_id  bigint NOT NULL REFERENCES skus (id),
    reason  text NOT NULL CONSTRAINT plan_skipped_reason_known CHECK (reason IN (
        'not_stocked', 'no_demand', 'no_shortfall', 'no_surplus', 'no_profitable_lane',
        'warehouse_has_none', 'out_of_capacity', 'over_run_limit')),
    PRIMARY KEY (plan_id, sku_id)
);
