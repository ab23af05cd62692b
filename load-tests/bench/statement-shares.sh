#!/usr/bin/env bash
# Which statements the POS and order workloads send, from pg_stat_statements (docs/SCALING.md):
# a seeded chain on a PostgreSQL that preloads pg_stat_statements, the statistics reset before
# each workload and saved after it, then classified by statement-shares.sql beside this script.
# Run from the repository after `cargo build --bin allot -p allot-load-tests` (or --release,
# with BIN=target/release), against a cluster of its own: PG=postgres://postgres@127.0.0.1:5440.
set -eu
PG=${PG:-postgres://postgres@127.0.0.1:5440}
DB=${DB:-allot_scaling}
B=${BIN:-target/debug}
ADDR=${ADDR:-127.0.0.1:8097}
PREFIX=${PREFIX:-scaling}
R=${RESULTS:-results}; mkdir -p "$R"
HERE=$(dirname "$0")
CHAIN=(--stores "${STORES:-20}" --skus "${SKUS:-2000}" --carry-percent 30)
psql -qX "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -qX "$PG/$DB" -c "CREATE EXTENSION pg_stat_statements"
export DATABASE_URL=$PG/$DB ALLOT_BIND=$ADDR ALLOT_REDIS_PREFIX=$PREFIX NATS_URL= RUST_LOG=error
"$B/allot" migrate >/dev/null
KEY=$("$B/allot" keys create --role admin --label scaling 2>/dev/null | tail -n 1)
ALLOT_RATE_PER_S=1000000 ALLOT_LIVE_HOLDS_MAX=1000000 "$B/allot" serve > "$R/serve-$PREFIX.log" 2>&1 &
SERVE=$!
trap 'kill $SERVE' EXIT
for _ in $(seq 1 120); do curl -sf "$ADDR/health" >/dev/null && break; sleep 0.5; done
export ALLOT_KEY=$KEY ALLOT_LOAD_ADDR=$ADDR
"$B/allot-load-tests" seed "${CHAIN[@]}" > "$R/scaling-seed.txt"
# workload name, then the load generator's arguments.
measure() {
  local name=$1; shift
  psql -qX "$PG/$DB" -c "SELECT pg_stat_statements_reset()" > /dev/null
  "$B/allot-load-tests" "$@" | tee -a "$R/scaling-load.txt"
  psql -qX "$PG/$DB" -c "CREATE TABLE IF NOT EXISTS measured (workload text, LIKE pg_stat_statements)" \
    -c "INSERT INTO measured SELECT '$name', * FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
}
measure pos ingest "${CHAIN[@]}" --batches 200 --batch-size 1000 --concurrency 4 --duration 20s --warmup 0s
measure orders mixed "${CHAIN[@]}" --mix 0,0,0,100 --concurrency 16 --duration 20s --warmup 0s
"$B/allot-load-tests" check > "$R/scaling-check.txt" 2>&1 || { cat "$R/scaling-check.txt"; exit 1; }
psql -X "$PG/$DB" -f "$HERE/statement-shares.sql" | tee "$R/scaling-shares.txt"
