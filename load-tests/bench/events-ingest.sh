#!/usr/bin/env bash
# After auth-overhead.sh (its bin-old/, bin-new/ and allot_bench_old), from the same folder:
# POS ingest without (old) and with (new) the stock-event outbox, alternating, each over its own
# copy of the chain, with the raw batch statements (pgbench) between them.
set -u
PG=postgres://postgres@127.0.0.1:5432
HERE=$(cd "$(dirname "$0")" && pwd)
R=${RESULTS:-results}; mkdir -p $R
B=${BIN:-bin}
stamp() { date -u +%FT%TZ; }
serve() { # bin-dir db prefix
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$3 NATS_URL= \
    RUST_LOG=error "$1/allot" serve > $R/serve-$3.log 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
  echo "service did not start"; exit 1
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
ingest() { # label bin-dir db prefix [key]
  serve "$2" "$3" "$4"
  echo "== $1 ingest c4 ($(stamp))" >> $R/events.txt
  ALLOT_KEY=${5:-} "$2/allot-load-tests" ingest --batches 300 --batch-size 1000 --concurrency 4 \
    --duration 30s --warmup 2s 2>&1 | grep -E "^ingest " >> $R/events.txt
  stop
}
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS allot_bench_events" \
  -c "CREATE DATABASE allot_bench_events TEMPLATE allot_bench_old"
KEY=$(DATABASE_URL=$PG/allot_bench_events $B-new/allot keys create --role admin --label bench 2>/dev/null | tail -n 1)
echo "== raw ingest batch ($(stamp))" >> $R/events.txt
pgbench -n -M prepared -c 4 -j 1 -T 15 -f $HERE/ingest-batch.sql $PG/allot_bench_old 2>&1 | grep -E "^tps" >> $R/events.txt
for round in 1 2 3; do
  ingest "old (no outbox) round $round" $B-old allot_bench_old events-old
  ingest "new (outbox) round $round" $B-new allot_bench_events events-new "$KEY"
done
echo "== done ($(stamp))" >> $R/events.txt
