-- How far each sink (NATS JetStream; webhooks later) has delivered the numbered stock events.
-- A sink's position moves only after the sink stored every event up to it: at least once.
CREATE TABLE event_sinks (
    name     text PRIMARY KEY CONSTRAINT event_sink_name_length CHECK (length(name) BETWEEN 1 AND 64),
    position bigint NOT NULL DEFAULT 0 CONSTRAINT event_sink_position_range CHECK (position >= 0)
);
