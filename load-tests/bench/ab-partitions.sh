#!/usr/bin/env bash
# The ledger by month against the ledger before it (V18, docs/SCALING.md), raw SQL: the same
# chain (200 stores × 7,500 SKUs, 1.5 M balances) migrated to V17 and, in a copy, to V18; then
# one POS batch's writes (ingest-batch.sql) alternating between them, three rounds each.
# Run from the repository; PG is a PostgreSQL of its own (the databases are dropped first).
set -eu
PG=${PG:-postgres://postgres@127.0.0.1:5440}
# Movements take their actor from the session (V7).
export PGOPTIONS='-c allot.actor=system:bench'
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS ab_v17" -c "DROP DATABASE IF EXISTS ab_v18" -c "CREATE DATABASE ab_v17"
for v in $(seq 1 17); do psql -qX -v ON_ERROR_STOP=1 $PG/ab_v17 -f $(ls sql/V${v}__*.sql) > /dev/null; done
psql -qX -v ON_ERROR_STOP=1 $PG/ab_v17 <<'SQL'
INSERT INTO locations (code, name, kind, latitude, longitude, pickup, ship)
SELECT 'ST' || g, 'Store ' || g, 'store', 25, 121.5, true, true FROM generate_series(1, 200) g;
INSERT INTO skus (code, name) SELECT 'SKU-' || g, 'Item ' || g FROM generate_series(1, 7500) g;
INSERT INTO balances (sku_id, location_id, on_hand) SELECT s, l, 1000000 FROM generate_series(1, 7500) s, generate_series(1, 200) l;
VACUUM ANALYZE;
SQL
psql -qX $PG/postgres -c "CREATE DATABASE ab_v18 TEMPLATE ab_v17"
psql -qX -v ON_ERROR_STOP=1 $PG/ab_v18 -f sql/V18__movements_by_month.sql > /dev/null
psql -qX $PG/ab_v18 -c "VACUUM ANALYZE"
for round in 1 2 3; do
  for db in ab_v17 ab_v18; do
    echo "== $db round $round $(date -u +%T)"
    pgbench -n -M prepared -c 4 -j 1 -T 15 -f load-tests/bench/ingest-batch.sql $PG/$db 2>&1 | grep -E "^tps|latency average"
  done
done
