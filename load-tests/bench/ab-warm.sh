#!/usr/bin/env bash
# After pair-old-new.sh (its databases and bin-old/, bin-new/), from the same folder.
# Warm A/B: each round starts old then new (each over its own, already warm, copy of the chain),
# lookups 10 s, ingest, orders alone 15 s.
set -u
PG=postgres://postgres@127.0.0.1:5432
R=${RESULTS:-results}
serve() {
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$3 ALLOT_DB_POOL_SIZE=32 \
    RUST_LOG=error "$1/allot" serve > /dev/null 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
for round in 1 2 3; do
  for v in old new; do
    serve ${BIN:-bin}-$v allot_bench_$v ab-$v
    lt=${BIN:-bin}-$v/allot-load-tests
    "$lt" lookups --duration 4s --warmup 1s --concurrency 16 > /dev/null 2>&1
    printf "%s round %s lookups: " $v $round >> $R/ab2.txt
    "$lt" lookups --duration 10s --warmup 2s --concurrency 16 2>&1 | grep "^stock" >> $R/ab2.txt
    printf "%s round %s ingest:  " $v $round >> $R/ab2.txt
    "$lt" ingest --batches 250 --batch-size 1000 --concurrency 4 --duration 30s --warmup 2s 2>&1 | grep "^ingest " >> $R/ab2.txt
    printf "%s round %s orders:  " $v $round >> $R/ab2.txt
    "$lt" mixed --mix 0,0,0,100 --duration 15s --warmup 2s --concurrency 64 2>&1 | grep "^order (ship)" >> $R/ab2.txt
    stop
  done
done
