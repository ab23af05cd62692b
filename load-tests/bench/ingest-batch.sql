-- The writes of one POST /v1/movements batch of 1,000 sales from one store, generated
-- server-side: lock the balance rows in key order, append the movements, update the balances,
-- commit (src/ledger/movements.rs record_in, without the code lookups and the response).
-- Balances and movements change together, so `allot-load-tests check` still passes after it.
\set store random(1, 200)
\set start random(1, 6500)
BEGIN;
SELECT b.sku_id, b.location_id, b.on_hand, b.allocated, b.in_transit, l.safety_stock
  FROM balances b JOIN locations l ON l.id = b.location_id
  WHERE b.location_id = :store AND b.sku_id >= :start
  ORDER BY b.sku_id LIMIT 1000 FOR UPDATE OF b;
INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta, request_id, occurred_at)
  SELECT sku_id, location_id, 'sale', 1, -1, '00000000-0000-4000-8000-000000000000', now()
  FROM balances WHERE location_id = :store AND sku_id >= :start
  ORDER BY sku_id LIMIT 1000;
UPDATE balances b SET on_hand = b.on_hand - 1, version = b.version + 1, updated_at = now()
  FROM (SELECT sku_id FROM balances WHERE location_id = :store AND sku_id >= :start
        ORDER BY sku_id LIMIT 1000) v
  WHERE b.location_id = :store AND b.sku_id = v.sku_id;
COMMIT;
