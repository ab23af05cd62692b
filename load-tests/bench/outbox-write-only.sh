#!/usr/bin/env bash
# What writing the events costs without delivering them: on the two databases that
# outbox-overhead.sh leaves (allot_outbox_on with the event trigger, allot_outbox_off without),
# ingest alternates between them with the relay held off: its numbering lock is taken by a
# session of its own (in a statement that ends, so no snapshot holds vacuum back), and NATS is
# off. Then the raw PostgreSQL work: pgbench updating 1,000 balances a transaction (what one
# POS batch does to them), with and without the trigger.
set -u
PG=postgres://postgres@127.0.0.1:5432
B=${BIN:-target/release}
PGBENCH=${PGBENCH:-$(ls /usr/lib/postgresql/*/bin/pgbench | tail -n 1)}
key() { DATABASE_URL=$PG/$1 "$B/allot" keys create --role admin --label write-only 2>/dev/null | tail -n 1; }
run() { # label db
  DATABASE_URL=$PG/$2 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=write-only-$2 NATS_URL= \
    RUST_LOG=error "$B/allot" serve >/dev/null 2>&1 &
  local pid=$!
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && break; sleep 0.5; done
  echo "== $1"
  ALLOT_KEY=$(key $2) "$B/allot-load-tests" ingest --stores ${STORES:-50} --skus ${SKUS:-5000} \
    --carry-percent 30 --batches 300 --batch-size 1000 --concurrency 4 --duration 30s \
    --warmup 2s 2>&1 | grep -E "^ingest "
  kill $pid; sleep 2
}
(echo "SELECT pg_advisory_lock(7261017);"; sleep 600) | psql -qX $PG/allot_outbox_on >/dev/null 2>&1 &
sleep 1
for round in $(seq 1 ${ROUNDS:-2}); do
  run "no event trigger, round $round" allot_outbox_off
  run "event trigger, relay held off, round $round" allot_outbox_on
done
for round in $(seq 1 ${ROUNDS:-2}); do
  for db in allot_outbox_off allot_outbox_on; do
    echo "== raw: 1,000 balances a transaction, $db, round $round"
    "$PGBENCH" -n -h 127.0.0.1 -U postgres -f "$(dirname "$0")/raw-balance-update.sql" \
      -c 4 -j 2 -t 100 $db 2>&1 | grep -E "^(tps|latency average)"
  done
done
pkill -f "sleep 600"
echo "== unnumbered now (the relay was held off): $(psql -tAX $PG/allot_outbox_on \
  -c 'SELECT count(*) FROM stock_events WHERE position IS NULL')"
