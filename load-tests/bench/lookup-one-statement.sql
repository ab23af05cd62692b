-- The same answer as lookup-prepared.sql in one statement: the SKU, the origin store and the
-- balances joined server-side (a suggestion for the service; see docs/BENCHMARKS.md).
\set store random(1, 200)
\set sku random(1, 10000)
WITH s AS (SELECT id, code, name FROM skus WHERE code = 'SKU-' || lpad(:sku::text, 7, '0')),
     o AS (SELECT latitude, longitude FROM locations WHERE code = 'ST' || lpad(:store::text, 5, '0'))
SELECT s.name, o.latitude, o.longitude, l.code, l.name, l.kind, l.latitude, l.longitude,
       l.pickup, l.ship, l.safety_stock, b.on_hand, b.allocated, b.in_transit
  FROM s CROSS JOIN o
  LEFT JOIN balances b ON b.sku_id = s.id
       AND (b.on_hand <> 0 OR b.allocated <> 0 OR b.in_transit <> 0)
  LEFT JOIN locations l ON l.id = b.location_id;
