-- The three statements of GET /v1/stock/{sku}?store={store}, as the service sends them
-- (src/ledger/locations.rs get, src/ledger/skus.rs get, src/ledger/stock.rs by_sku),
-- codes drawn like `allot-load-tests lookups` draws them (200 stores, 10,000 SKUs).
\set store random(1, 200)
\set sku random(1, 10000)
SELECT l.id, l.code, l.name, l.kind, l.latitude, l.longitude, l.pickup, l.ship, l.safety_stock
  FROM locations l WHERE l.code = 'ST' || lpad(:store::text, 5, '0');
SELECT id, code, name, attributes FROM skus WHERE code = 'SKU-' || lpad(:sku::text, 7, '0');
SELECT l.code, l.name, l.kind, l.latitude, l.longitude, l.pickup, l.ship, l.safety_stock,
       b.on_hand, b.allocated, b.in_transit
  FROM balances b JOIN locations l ON l.id = b.location_id
  WHERE b.sku_id = (SELECT id FROM skus WHERE code = 'SKU-' || lpad(:sku::text, 7, '0'))
    AND (b.on_hand <> 0 OR b.allocated <> 0 OR b.in_transit <> 0);
