-- The floor under POS ingest on this machine: 1,000 ledger rows appended per transaction to a
-- scratch copy of `movements` (same columns and indexes, no foreign key), no balance read or
-- written. Needs `CREATE TABLE movements_scratch (LIKE movements INCLUDING ALL)` first (see
-- docs/BENCHMARKS.md); drop it afterwards.
\set store random(1, 200)
\set start random(1, 6500)
INSERT INTO movements_scratch (sku_id, location_id, kind, qty, on_hand_delta, request_id, occurred_at)
  SELECT sku_id, location_id, 'sale', 1, -1, '00000000-0000-4000-8000-000000000000', now()
  FROM balances WHERE location_id = :store AND sku_id >= :start
  ORDER BY sku_id LIMIT 1000;
