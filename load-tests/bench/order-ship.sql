-- The writes of one POST /v1/orders of one unit shipped from one store, without the service:
-- the order row (with its stored response), the balance row locked and allocated under the
-- ledger's guard, the allocation movement, the order line; then commit. What the service adds
-- is routing, the Redis hold and its settling, and HTTP (src/ledger/orders.rs `place`).
-- Balances and movements change together, so `allot-load-tests check` still passes after it.
\set store random(1, 200)
\set start random(1, 9900)
BEGIN;
INSERT INTO orders (client_order_id, request_hash, mode, latitude, longitude, allow_split, cost,
                    status, response)
  VALUES ('PGB-' || gen_random_uuid(), '\x00', 'ship', 25.03, 121.56, true, '{"total": 1}',
          'open', '{"id": "PGB", "allocations": [{"sku": "SKU", "qty": 1}]}')
  RETURNING id AS order_id \gset
SELECT b.sku_id, b.location_id FROM balances b JOIN locations l ON l.id = b.location_id
  WHERE b.location_id = :store AND b.sku_id >= :start AND b.on_hand - b.allocated >= 1
  ORDER BY b.sku_id LIMIT 1 FOR UPDATE OF b \gset
INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta, allocated_delta,
                       request_id, occurred_at)
  VALUES (:sku_id, :location_id, 'allocation', 1, 0, 1,
          '00000000-0000-4000-8000-000000000000', now());
UPDATE balances SET allocated = allocated + 1, version = version + 1, updated_at = now()
  WHERE sku_id = :sku_id AND location_id = :location_id;
INSERT INTO order_lines (order_id, sku_id, source_location_id, route, qty, ready_at)
  VALUES (:order_id, :sku_id, :location_id, 'ship', 1, now());
COMMIT;
