#!/usr/bin/env bash
# After pair-old-new.sh (its databases and bin-old/, bin-new/), from the same folder.
# Lookups and holds, old and new alternating (ABAB), each over its own copy of the chain.
set -u
PG=postgres://postgres@127.0.0.1:5432
R=${RESULTS:-results}; mkdir -p $R
serve() {
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$3 ALLOT_DB_POOL_SIZE=32 \
    RUST_LOG=error "$1/allot" serve > /dev/null 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
for round in 1 2; do
  for v in old new; do
    serve ${BIN:-bin}-$v allot_bench_$v ab-$v
    "${BIN:-bin}-$v/allot-load-tests" lookups --duration 5s --warmup 2s --concurrency 16 > /dev/null 2>&1
    echo "== $v lookups round $round $(date -u +%T)" >> $R/ab.txt
    "${BIN:-bin}-$v/allot-load-tests" lookups --duration 12s --warmup 2s --concurrency 16 2>&1 | grep "^stock" >> $R/ab.txt
    echo "== $v holds round $round $(date -u +%T)" >> $R/ab.txt
    "${BIN:-bin}-$v/allot-load-tests" holds --duration 12s --warmup 3s --concurrency 64 2>&1 | grep "^hold" >> $R/ab.txt
    stop
  done
done
