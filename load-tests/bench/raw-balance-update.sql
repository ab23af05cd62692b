-- One POS batch's work on balances, for pgbench (load-tests/bench/outbox-write-only.sh).
\set loc random(1, 50)
BEGIN;
SELECT set_config('allot.actor', 'system:bench', true), set_config('allot.cause', '{"movements": ["sale"], "idempotency_key": "raw"}', true);
UPDATE balances SET on_hand = on_hand + 1, version = version + 1 WHERE location_id = :loc AND sku_id IN (SELECT sku_id FROM balances WHERE location_id = :loc ORDER BY sku_id LIMIT 1000);
COMMIT;
