-- A synthetic chain for the planning benchmark, written straight into an empty, migrated
-- database (the planners read balances, locations, SKUs and POS sale movements only):
-- :stores stores in six cities, :skus SKUs, each carried by about :carry stores (sparse, as in
-- a real chain), a third of the carried (store, SKU) pairs selling a few units in the last
-- four weeks, a quarter overstocked. Deterministic (setseed).
-- Usage: psql -v stores=1000 -v skus=100000 -v carry=50 -f plans-seed.sql DATABASE_URL
\set ON_ERROR_STOP on
SELECT setseed(0.42);

INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship, safety_stock)
SELECT format('S%s', lpad(i::text, 4, '0')), format('Store %s', i), 'store',
       c.lat + (random() - 0.5) * 0.3, c.lon + (random() - 0.5) * 0.3, true, i % 3 = 0, 1
FROM generate_series(1, :stores) i
JOIN (VALUES (0, 25.04, 121.53), (1, 24.15, 120.67), (2, 22.63, 120.30),
             (3, 22.99, 120.21), (4, 24.80, 120.97), (5, 24.96, 121.22)) AS c(city, lat, lon)
  ON c.city = i % 6;
INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship, safety_stock)
VALUES ('WH-1', 'Warehouse', 'warehouse', 25.0, 121.3, false, true, 0);

INSERT INTO skus (code, name, attributes)
SELECT format('P%s', lpad(i::text, 6, '0')), format('Item %s', i),
       jsonb_build_object('margin', 40 + (i % 8) * 30)
FROM generate_series(1, :skus) i;

-- Each SKU at about :carry stores, chosen by a hash so that stores carry different ranges.
CREATE TEMP TABLE carried AS
SELECT DISTINCT ON (s.id, l.id) s.id AS sku_id, l.id AS location_id, random() AS r
FROM skus s
CROSS JOIN generate_series(1, :carry) k
JOIN locations l ON l.kind = 'store'
 AND l.code = format('S%s', lpad((1 + abs(hashint8(s.id * 1000 + k)) % :stores)::text, 4, '0'));

INSERT INTO balances (sku_id, location_id, on_hand)
SELECT sku_id, location_id,
       CASE WHEN r < 0.25 THEN 15 + (r * 160)::int8      -- overstocked
            WHEN r < 0.60 THEN (r * 10)::int8            -- a few units
            ELSE 0 END                                   -- sold out
FROM carried;

-- The warehouse holds most of the range, for the replenishment run.
INSERT INTO balances (sku_id, location_id, on_hand)
SELECT s.id, w.id, 100 + (random() * 400)::int8
FROM skus s CROSS JOIN locations w
WHERE w.code = 'WH-1' AND random() < 0.6;

-- Sales in the window: two sale movements for the pairs that sell.
INSERT INTO movements (sku_id, location_id, kind, qty, on_hand_delta, request_id, occurred_at)
SELECT sku_id, location_id, 'sale', q, -q, gen_random_uuid(), now() - (random() * 27 + 0.5) * interval '1 day'
FROM (SELECT sku_id, location_id, 1 + (random() * 4)::int8 AS q
      FROM carried, generate_series(1, 2)
      WHERE r >= 0.45) sales;

ANALYZE locations; ANALYZE skus; ANALYZE balances; ANALYZE movements;
SELECT (SELECT count(*) FROM locations) AS locations, (SELECT count(*) FROM skus) AS skus,
       (SELECT count(*) FROM balances) AS balances, (SELECT count(*) FROM movements) AS sales;
