-- Planning runs asked for by the API or the scheduler wait here, and the planner of some
-- instance runs them off the request pool, oldest first, one per kind at a time (a session
-- advisory lock per kind, held by the planner's connection, says whose turn it is; the index
-- below makes a second `running` run of a kind impossible). A plan is what a run produced.
CREATE TABLE plan_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CONSTRAINT plan_run_kind_known CHECK (kind IN ('rebalance', 'replenishment')),
    run_date     date NOT NULL,
    status       text NOT NULL DEFAULT 'queued'
                 CONSTRAINT plan_run_status_known CHECK (status IN ('queued', 'running', 'finished', 'failed')),
    params       jsonb NOT NULL CONSTRAINT plan_run_params_object CHECK (jsonb_typeof(params) = 'object'),
    requested_by text NOT NULL CONSTRAINT plan_run_requested_by_length CHECK (length(requested_by) BETWEEN 1 AND 200),
    plan_id      bigint REFERENCES plans (id),
    outcome      text CONSTRAINT plan_run_outcome_known CHECK (outcome IN ('planned', 'resumed', 'already_committed')),
    -- Why a run failed: `conflict` (the night is being planned or committed by another run, or
    -- an interrupted commit needs a run that commits) or `fault` (see the log).
    failure      text CONSTRAINT plan_run_failure_known CHECK (failure IN ('conflict', 'fault')),
    message      text CONSTRAINT plan_run_message_length CHECK (length(message) <= 2000),
    queued_at    timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    CONSTRAINT plan_run_started_unless_queued CHECK ((status = 'queued') = (started_at IS NULL)),
    CONSTRAINT plan_run_finished_when_done CHECK ((status IN ('finished', 'failed')) = (finished_at IS NOT NULL)),
    CONSTRAINT plan_run_finished_has_outcome CHECK ((status = 'finished') = (outcome IS NOT NULL AND plan_id IS NOT NULL)),
    CONSTRAINT plan_run_failed_has_failure CHECK ((status = 'failed') = (failure IS NOT NULL AND message IS NOT NULL))
);
CREATE UNIQUE INDEX plan_runs_one_running_per_kind ON plan_runs (kind) WHERE status = 'running';
CREATE INDEX plan_runs_open ON plan_runs (kind, id) WHERE status IN ('queued', 'running');
-- The scheduler asks once per kind and night, however many instances run it.
CREATE UNIQUE INDEX plan_runs_scheduled_once ON plan_runs (kind, run_date)
    WHERE requested_by = 'system:scheduler';
