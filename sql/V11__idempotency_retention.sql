-- Idempotency records expire after a retention (ALLOT_IDEMPOTENCY_RETENTION_S) and are purged
-- oldest first, in batches.
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);
