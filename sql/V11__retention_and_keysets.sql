-- Idempotency records expire after a retention (ALLOT_IDEMPOTENCY_RETENTION_S) and are purged
-- oldest first, in batches.
CREATE INDEX idempotency_keys_by_time ON idempotency_keys (created_at);

-- The audit trail without filters pages by id (keyset): an index on id alone, so a page reads
-- its rows instead of sorting the whole ledger.
CREATE INDEX movements_by_id ON movements (id);

-- A plan's lines page best first (net = gain − cost descending) by keyset.
CREATE INDEX plan_lines_by_net ON plan_lines (plan_id, (cost - gain), sku_id, from_location_id, to_location_id);
