#!/usr/bin/env bash
# Usage: build two revisions' release binaries into bin-old/ and bin-new/ (allot and
# allot-load-tests), then run from the folder holding them: load-tests/bench/pair-old-new.sh
# Old (d6850c9) and new (main) release builds, each over its own copy of one seeded bench chain,
# measured back to back with the raw ceilings between them. Output in ${RESULTS:-results}/.
set -u
PG=postgres://postgres@127.0.0.1:5432
LTNEW=${BIN:-bin}-new/allot-load-tests
HERE=$(cd "$(dirname "$0")" && pwd)
R=${RESULTS:-results}; mkdir -p $R
stamp() { date -u +%FT%TZ; }
serve() { # bin-dir db prefix
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$3 ALLOT_DB_POOL_SIZE=32 \
    RUST_LOG=warn "$1/allot" serve > $R/serve-$3.log 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
  echo "service did not start"; exit 1
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
measure() { # label bin-dir db prefix
  serve "$2" "$3" "$4"
  echo "== $1 lookups warm-up ($(stamp))" >> $R/log.txt
  "$2/allot-load-tests" lookups --duration 5s --warmup 2s --concurrency 16 > /dev/null 2>&1
  for round in 1 2; do
    echo "== $1 lookups c16 round $round ($(stamp))" | tee -a $R/$1-lookups.txt
    "$2/allot-load-tests" lookups --duration 15s --warmup 2s --concurrency 16 >> $R/$1-lookups.txt 2>&1
  done
  "$2/allot-load-tests" holds --duration 10s --warmup 3s --concurrency 96 > /dev/null 2>&1
  for round in 1 2; do
    echo "== $1 holds c64 round $round ($(stamp))" | tee -a $R/$1-holds.txt
    "$2/allot-load-tests" holds --duration 15s --warmup 3s --concurrency 64 >> $R/$1-holds.txt 2>&1
  done
  echo "== $1 ingest c4 ($(stamp))" | tee -a $R/$1-ingest.txt
  "$2/allot-load-tests" ingest --batches 250 --batch-size 1000 --concurrency 4 --duration 30s --warmup 2s >> $R/$1-ingest.txt 2>&1
  for round in 1 2; do
    echo "== $1 orders alone c64 round $round ($(stamp))" | tee -a $R/$1-orders.txt
    "$2/allot-load-tests" mixed --mix 0,0,0,100 --duration 20s --warmup 2s --concurrency 64 >> $R/$1-orders.txt 2>&1
  done
  stop
  echo "== $1 check ($(stamp))" | tee -a $R/$1-check.txt
  "$2/allot-load-tests" check --database-url $PG/$3 >> $R/$1-check.txt 2>&1
}
raw() { # label db hold-script-bin
  echo "== raw $1 ($(stamp))" >> $R/raw.txt
  echo "-- lookup one statement" >> $R/raw.txt
  pgbench -n -M prepared -c 16 -j 1 -T 15 -f $HERE/lookup-one-statement.sql $PG/$2 2>&1 | grep -E "^tps|latency average" >> $R/raw.txt
  echo "-- ingest batch" >> $R/raw.txt
  pgbench -n -M prepared -c 4 -j 1 -T 15 -f $HERE/ingest-batch.sql $PG/$2 2>&1 | grep -E "^tps|latency average" >> $R/raw.txt
  echo "-- order writes c16" >> $R/raw.txt
  pgbench -n -M prepared -c 16 -j 1 -T 15 -f $HERE/order-ship.sql $PG/$2 2>&1 | grep -E "^tps|latency average" >> $R/raw.txt
}
raw_holds() { # label allot-load-tests-bin
  sha=$(redis-cli -h 127.0.0.1 SCRIPT LOAD "$("$2" hold-script)")
  tag="{rbench:s:SKU}"
  redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" >/dev/null
  redis-cli -h 127.0.0.1 SET "$tag:b:S1" "1:1000000000" EX 600 >/dev/null
  echo "== raw hold script $1 ($(stamp))" >> $R/raw.txt
  redis-benchmark -h 127.0.0.1 -c 50 -n 300000 -r 1000000000 -q \
    EVALSHA "$sha" 5 "{rbench:h:__rand_int__}" "{rbench:c:}" "$tag:b:S1" "$tag:h" "$tag:n" \
    "h__rand_int__" 60000 "" '[{"sku":"SKU","location":"S1","qty":1}]' fp 0 held 1 S1 \
    | tr '\r' '\n' | tail -n 1 >> $R/raw.txt
  redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" "$tag:b:S1" >/dev/null
}
echo "== seed ($(stamp))" >> $R/log.txt
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS allot_bench_old" -c "DROP DATABASE IF EXISTS allot_bench_new" -c "CREATE DATABASE allot_bench_old"
serve ${BIN:-bin}-old allot_bench_old bench-seed
${BIN:-bin}-old/allot-load-tests seed --stores 200 --skus 10000 --carry-percent 30 >> $R/log.txt 2>&1
stop
psql -qX $PG/allot_bench_old -c "VACUUM ANALYZE"
psql -qX $PG/postgres -c "CREATE DATABASE allot_bench_new TEMPLATE allot_bench_old"
echo "== seeded ($(stamp))" >> $R/log.txt
measure old ${BIN:-bin}-old allot_bench_old bench-old
raw_holds old ${BIN:-bin}-old/allot-load-tests
raw_holds new $LTNEW
raw old-db allot_bench_old
measure new ${BIN:-bin}-new allot_bench_new bench-new
raw new-db allot_bench_new
measure old2 ${BIN:-bin}-old allot_bench_old bench-old
echo "== done ($(stamp))" >> $R/log.txt
