-- Webhook subscriptions: each is a sink of the numbered stock events with its own position.
-- A delivery is a batch of the events after `position` that match the subscription; a failed
-- batch is fixed (`batch_end`) so its retries carry the same events under the same message id.
CREATE TABLE webhooks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url             text NOT NULL CONSTRAINT webhook_url_format CHECK (url ~ '^https?://' AND length(url) <= 2000),
    kinds           text[] NOT NULL CONSTRAINT webhook_kinds_known
                    CHECK (cardinality(kinds) BETWEEN 1 AND 4
                           AND kinds <@ ARRAY['availability_changed', 'out_of_stock', 'back_in_stock', 'low_stock']),
    sku_id          bigint REFERENCES skus (id),
    location_id     bigint REFERENCES locations (id),
    secret          text NOT NULL CONSTRAINT webhook_secret_format CHECK (secret ~ '^whsec_[A-Za-z0-9+/=]{16,100}$'),
    -- The secret before the last rotation keeps signing (a second signature) until then.
    previous_secret text CONSTRAINT webhook_previous_secret_format CHECK (previous_secret ~ '^whsec_[A-Za-z0-9+/=]{16,100}$'),
    previous_until  timestamptz,
    status          text NOT NULL DEFAULT 'enabled' CONSTRAINT webhook_status_known CHECK (status IN ('enabled', 'disabled')),
    position        bigint NOT NULL CONSTRAINT webhook_position_range CHECK (position >= 0),
    batch_end       bigint,
    attempts        integer NOT NULL DEFAULT 0 CONSTRAINT webhook_attempts_range CHECK (attempts >= 0),
    failing_since   timestamptz,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL CONSTRAINT webhook_created_by_length CHECK (length(created_by) BETWEEN 1 AND 200),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_batch_after_position CHECK (batch_end IS NULL OR batch_end > position),
    CONSTRAINT webhook_previous_whole CHECK ((previous_secret IS NULL) = (previous_until IS NULL)),
    CONSTRAINT webhook_failing_when_retrying CHECK ((attempts = 0) = (failing_since IS NULL))
);
CREATE INDEX webhooks_due ON webhooks (next_attempt_at) WHERE status = 'enabled';

-- Every attempt, kept per subscription up to a bound (the newest).
CREATE TABLE webhook_deliveries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id     bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    message_id     text NOT NULL,
    first_position bigint NOT NULL,
    last_position  bigint NOT NULL,
    events         integer NOT NULL CONSTRAINT webhook_delivery_events_range CHECK (events > 0),
    attempt        integer NOT NULL CONSTRAINT webhook_delivery_attempt_range CHECK (attempt >= 1),
    succeeded      boolean NOT NULL,
    status_code    integer,
    error          text CONSTRAINT webhook_delivery_error_length CHECK (length(error) <= 500),
    duration_ms    integer NOT NULL CONSTRAINT webhook_delivery_duration_range CHECK (duration_ms >= 0),
    at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_delivery_positions CHECK (first_position <= last_position)
);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id DESC);

