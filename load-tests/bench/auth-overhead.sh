#!/usr/bin/env bash
# Usage: build the release binaries (allot, allot-load-tests) of the build before access control
# into bin-old/ and of this one into bin-new/, then run from the folder holding them:
#   load-tests/bench/auth-overhead.sh
# Lookups, holds and POS ingest without auth (old) and with a key (new), alternating, each
# build over its own copy of one seeded chain, with the raw ceilings (one SQL lookup statement,
# the hold script in redis-benchmark) measured between them. Output in ${RESULTS:-results}/.
set -u
PG=postgres://postgres@127.0.0.1:5432
HERE=$(cd "$(dirname "$0")" && pwd)
R=${RESULTS:-results}; mkdir -p $R
B=${BIN:-bin}
stamp() { date -u +%FT%TZ; }
serve() { # bin-dir db prefix
  # One key places every hold of the run: its rate and live-hold cap are lifted for it.
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$3 ALLOT_DB_POOL_SIZE=32 \
    ALLOT_RATE_PER_S=10000000 ALLOT_LIVE_HOLDS_MAX=1000000000 \
    RUST_LOG=error "$1/allot" serve > $R/serve-$3.log 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
  echo "service did not start"; exit 1
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
# The service's CPU time (user + system, clock ticks of 10 ms) so far: less noisy on a shared
# machine than throughput, and what a credential check adds to.
cpu() { awk '{print $14 + $15}' /proc/"$(cat /tmp/bench-serve.pid)"/stat; }
measured() { # label op bin-dir key -- load-tests args...
  local label=$1 op=$2 bin=$3 key=$4; shift 4
  local before after out
  before=$(cpu)
  out=$(ALLOT_KEY=$key "$bin/allot-load-tests" "$@" --warmup 0s 2>&1)
  after=$(cpu)
  echo "== $label ($(stamp))" >> $R/auth.txt
  echo "$out" | grep -E "^$op" >> $R/auth.txt
  # Every line of the op (a hold refused is a request too): its count is its first number.
  echo "$out" | awk -v t=$((after - before)) -v op="$op" '
    index($0, op) == 1 { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) { n += $i; break } }
    END { if (n > 0) printf "service cpu %.1f s over %d requests: %.1f us each\n", t / 100, n, t * 10000 / n }' >> $R/auth.txt
}
run() { # label bin-dir db prefix [key]
  serve "$2" "$3" "$4"
  ALLOT_KEY=${5:-} "$2/allot-load-tests" lookups --duration 5s --warmup 2s --concurrency 16 > /dev/null 2>&1
  measured "$1 lookups c16" stock "$2" "${5:-}" lookups --duration 15s --concurrency 16
  ALLOT_KEY=${5:-} "$2/allot-load-tests" holds --duration 5s --warmup 2s --concurrency 64 > /dev/null 2>&1
  measured "$1 holds c64" hold "$2" "${5:-}" holds --duration 15s --concurrency 64
  # POS ingest: the new build also writes a stock event per changed balance (issue 17).
  measured "$1 ingest c4" ingest "$2" "${5:-}" ingest --batches 200 --batch-size 1000 --concurrency 4 --duration 20s
  stop
}
raw() { # label
  echo "== raw lookup one statement $1 ($(stamp))" >> $R/auth.txt
  pgbench -n -M prepared -c 16 -j 1 -T 15 -f $HERE/lookup-one-statement.sql $PG/allot_bench_old 2>&1 \
    | grep -E "^tps" >> $R/auth.txt
}
raw_hold() { # label load-tests-bin keys... -- args...
  local label=$1 bin=$2; shift 2
  sha=$(redis-cli -h 127.0.0.1 SCRIPT LOAD "$("$bin" hold-script)")
  redis-cli -h 127.0.0.1 DEL "{rbench:s:SKU}:h" "{rbench:s:SKU}:n" "{rbench:a:bench}" >/dev/null
  redis-cli -h 127.0.0.1 SET "{rbench:s:SKU}:b:S1" "1:1000000000" EX 600 >/dev/null
  echo "== raw hold script $label ($(stamp))" >> $R/auth.txt
  redis-benchmark -h 127.0.0.1 -c 50 -n 300000 -r 1000000000 -q EVALSHA "$sha" "$@" \
    | tr '\r' '\n' | tail -n 1 >> $R/auth.txt
  redis-cli -h 127.0.0.1 DEL "{rbench:s:SKU}:h" "{rbench:s:SKU}:n" "{rbench:s:SKU}:b:S1" "{rbench:a:bench}" >/dev/null
}
LINE='[{"sku":"SKU","location":"S1","qty":1}]'
KEYS5=("{rbench:h:__rand_int__}" "{rbench:c:}" "{rbench:s:SKU}:b:S1" "{rbench:s:SKU}:h" "{rbench:s:SKU}:n")
echo "== seed ($(stamp))" >> $R/auth.txt
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS allot_bench_old" -c "DROP DATABASE IF EXISTS allot_bench_new" -c "CREATE DATABASE allot_bench_old"
serve $B-old allot_bench_old auth-seed
$B-old/allot-load-tests seed --stores 200 --skus 10000 --carry-percent 30 >> $R/auth.txt 2>&1
stop
psql -qX $PG/allot_bench_old -c "VACUUM ANALYZE"
psql -qX $PG/postgres -c "CREATE DATABASE allot_bench_new TEMPLATE allot_bench_old"
# An admin key: the same check as any other, and ingest needs write_inventory everywhere.
KEY=$(DATABASE_URL=$PG/allot_bench_new $B-new/allot keys create --role admin --label bench 2>/dev/null | tail -n 1)
raw before
for round in 1 2 3; do
  run "old (no auth) round $round" $B-old allot_bench_old auth-old
  run "new (with a key) round $round" $B-new allot_bench_new auth-new "$KEY"
done
raw after
raw_hold old $B-old/allot-load-tests 5 "${KEYS5[@]}" h__rand_int__ 60000 "" "$LINE" fp 0 held 1 S1
raw_hold new $B-new/allot-load-tests 6 "${KEYS5[@]}" "{rbench:a:bench}" h__rand_int__ 60000 "" "$LINE" fp 0 held 1 S1 key:bench 1000000000
echo "== done ($(stamp))" >> $R/auth.txt
