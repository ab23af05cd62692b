#!/usr/bin/env bash
# Every figure of the "## Ledger" section of docs/BENCHMARKS.md, in one run, so that each
# service figure has its raw PostgreSQL baseline measured beside it on the same machine state.
# Needs: a seeded chain (`allot-load-tests seed`) served by a release `allot serve` on
# 127.0.0.1:8090 over database allot_bench. Writes one file per figure to ./results/.
# Usage: load-tests/bench/run-ledger.sh [path/to/allot-load-tests]
set -u
LT=${1:-./target/release/allot-load-tests}
HERE=$(cd "$(dirname "$0")" && pwd)
CPU=$HERE/cpu-split.sh DB=allot_bench
PG=postgres://postgres@127.0.0.1:5432/$DB
mkdir -p results
# Fresh planner statistics after seeding (see "where the time goes").
psql -qX "$PG" -c "ANALYZE locations; ANALYZE skus; ANALYZE balances"
evalsha() { redis-cli -h 127.0.0.1 INFO commandstats | grep -E '^cmdstat_evalsha:' | tr -d '\r'; }
run() {
  name=$1; shift
  echo "== $name: $* ($(date -u +%FT%TZ))" > "results/$name.txt"
  ( sleep 3; "$CPU" 10 "$DB" > "results/$name.cpu" ) &
  e0=$(evalsha)
  "$@" >> "results/$name.txt" 2>&1
  e1=$(evalsha); wait
  { echo "redis evalsha before: $e0"; echo "redis evalsha after:  $e1"; cat "results/$name.cpu"; } \
    >> "results/$name.txt"
}
run lookup_health      "$LT" lookups --kind health --duration 15s --warmup 2s --concurrency 64
run lookup_near_c64    "$LT" lookups --duration 15s --warmup 2s --concurrency 64
run lookup_near_c16    "$LT" lookups --duration 15s --warmup 2s --concurrency 16
run lookup_near_c32    "$LT" lookups --duration 15s --warmup 2s --concurrency 32
run pg_lookup_prepared pgbench -n -M prepared -c 16 -j 1 -T 15 -f "$HERE/lookup-prepared.sql" "$PG"
run pg_lookup_extended pgbench -n -M extended -c 16 -j 1 -T 15 -f "$HERE/lookup-prepared.sql" "$PG"
run pg_lookup_one      pgbench -n -M prepared -c 16 -j 1 -T 15 -f "$HERE/lookup-one-statement.sql" "$PG"
run ingest_c4          "$LT" ingest --batches 250 --batch-size 1000 --concurrency 4 --duration 60s --warmup 2s
run pg_ingest_c4       pgbench -n -M prepared -c 4 -j 1 -T 15 -f "$HERE/ingest-batch.sql" "$PG"
run check              "$LT" check --database-url "$PG"
