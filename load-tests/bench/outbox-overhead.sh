#!/usr/bin/env bash
# The stock-event outbox's cost to POS ingest, one release build, one run: a seeded chain and
# its copy with the event triggers disabled (no events written, the relay idle), ingest
# alternating between them three times, NATS publishing on for the copy with events.
# Each round also says where the machine's CPU went per 1,000 movements (/proc, cpu-of.py).
# FLOOR=1 adds a third ingest per round, without events but with JetStream storing, on a stream
# of its own, 85 % of the events the round's ingest with events wrote per movement times the
# rate of the round without events (`allot-load-tests broker`): the broker's work alone at the
# event rate the 15 % bound needs, no outbox and no relay.
# SERVE_LOG sets the service's RUST_LOG (its log is RESULTS/serve-PREFIX.log).
# Run from the repository after `cargo build --release --bin allot -p allot-load-tests`.
set -u
PG=postgres://postgres@127.0.0.1:5432
B=${BIN:-target/release}
R=${RESULTS:-results}; mkdir -p $R
OUT=$R/outbox.txt
stamp() { date -u +%FT%TZ; }
serve() { # db prefix nats-url
  DATABASE_URL=$PG/$1 ALLOT_BIND=127.0.0.1:8090 ALLOT_REDIS_PREFIX=$2 NATS_URL=$3 \
    ALLOT_NATS_PREFIX=$2 ALLOT_NATS_STREAM=${2^^} RUST_LOG=${SERVE_LOG:-error} "$B/allot" serve > $R/serve-$2.log 2>&1 &
  echo $! > /tmp/bench-serve.pid
  for i in $(seq 1 120); do curl -sf 127.0.0.1:8090/health >/dev/null && return 0; sleep 0.5; done
  echo "service did not start"; exit 1
}
stop() { kill "$(cat /tmp/bench-serve.pid)"; sleep 2; }
# CPU time in clock ticks: of one process, and of the whole machine (busy, not idle or iowait).
ticks() { awk '{print $14 + $15}' /proc/$1/stat 2>/dev/null || echo 0; }
busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
HZ=$(getconf CLK_TCK)
MOVEMENTS=$((300 * 1000))
ingest() { # label db prefix nats-url key [events/s the broker stores meanwhile]
  serve "$2" "$3" "$4"
  echo "== $1 ($(stamp))" >> $OUT
  local publisher=0
  if [ -n "${6:-}" ]; then
    "$B/allot-load-tests" broker --rate "$6" --prefix "floor$round" --stream "FLOOR$round" \
      --stores ${STORES:-50} --skus ${SKUS:-5000} > $R/broker.log 2>&1 &
    publisher=$!; sleep 1
  fi
  if [ -n "$4" ]; then # how long events take to reach a NATS subscriber meanwhile
    NATS_URL=$4 ALLOT_NATS_PREFIX=$3 "$B/allot" events tail --subject 'stock.>' 2>/dev/null \
      | python3 "$(dirname "$0")/nats-lag.py" >> $OUT &
    TAIL=$!
  fi
  local nats serve machine0 serve0 nats0
  nats=$(pgrep -x nats-server | head -n 1); serve=$(cat /tmp/bench-serve.pid)
  machine0=$(busy); serve0=$(ticks $serve); nats0=$(ticks "${nats:-0}"); rm -f $R/loadgen.cpu
  ALLOT_KEY=$5 python3 "$(dirname "$0")/cpu-of.py" $R/loadgen.cpu \
    "$B/allot-load-tests" ingest --stores ${STORES:-50} --skus ${SKUS:-5000} \
    --carry-percent 30 --batches 300 --batch-size 1000 --concurrency 4 \
    --duration 30s --warmup 2s 2>&1 | grep -E "^ingest " > $R/ingest.txt
  cat $R/ingest.txt >> $OUT
  RATE=$(awk '$1 == "ingest" && $2 ~ /^[0-9]+$/ {print $6}' $R/ingest.txt)
  if [ "$publisher" != 0 ]; then
    kill $publisher; wait $publisher 2>/dev/null
    echo "$(tail -n 1 $R/broker.log) (asked $6/s); its own cpu is in the rest" >> $OUT
  fi
  # Where the two cores went while the 300 batches ran, per 1,000 movements; the rest is
  # PostgreSQL (with autovacuum), the NATS subscriber and anything else on the machine.
  python3 - "$(( $(busy) - machine0 ))" "$(( $(ticks $serve) - serve0 ))" \
    "$(( $(ticks "${nats:-0}") - nats0 ))" "$(cat $R/loadgen.cpu)" $HZ $MOVEMENTS >> $OUT <<'PY'
import sys
machine, serve, nats, hz, movements = (float(sys.argv[i]) for i in (1, 2, 3, 5, 6))
loadgen = float(sys.argv[4]) * hz
per = lambda ticks: ticks / hz * 1e6 / movements  # CPU µs per movement = ms per 1,000
rest = machine - serve - nats - loadgen
print(f"cpu per 1,000 movements: machine {per(machine):.1f} ms = allot {per(serve):.1f}"
      f" + nats-server {per(nats):.1f} + load generator {per(loadgen):.1f}"
      f" + PostgreSQL and the rest {per(rest):.1f}")
PY
  sleep 3 # what was committed reaches NATS
  [ -n "$4" ] && { pkill -f "events tail --subject stock" ; wait $TAIL 2>/dev/null; }
  stop
}
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS allot_outbox_on" -c "DROP DATABASE IF EXISTS allot_outbox_off" \
  -c "CREATE DATABASE allot_outbox_on"
DATABASE_URL=$PG/allot_outbox_on "$B/allot" migrate >/dev/null 2>&1 || true
KEY=$(DATABASE_URL=$PG/allot_outbox_on "$B/allot" keys create --role admin --label bench 2>/dev/null | tail -n 1)
serve allot_outbox_on outbox-on nats://127.0.0.1:4222
echo "== seed ($(stamp))" >> $OUT
ALLOT_KEY=$KEY "$B/allot-load-tests" seed --stores ${STORES:-50} --skus ${SKUS:-5000} --carry-percent 30 >> $OUT 2>&1
unpublished() {
  psql -tAX $PG/allot_outbox_on -c "SELECT count(*) FROM stock_events WHERE position IS NULL
    OR position > coalesce((SELECT position FROM event_sinks WHERE name = 'nats'), 0)"
}
for i in $(seq 1 240); do [ "$(unpublished)" = 0 ] && break; sleep 1; done
echo "== seed's events published ($(stamp)); left: $(unpublished)" >> $OUT
stop
psql -qX $PG/allot_outbox_on -c "VACUUM ANALYZE"
psql -qX $PG/postgres -c "CREATE DATABASE allot_outbox_off TEMPLATE allot_outbox_on"
psql -qX $PG/allot_outbox_off -c "ALTER TABLE balances DISABLE TRIGGER balances_record_events" \
  -c "ALTER TABLE locations DISABLE TRIGGER locations_record_safety_stock_events"
events() { psql -tAX $PG/allot_outbox_on -c "SELECT count(*) FROM stock_events"; }
for round in $(seq 1 ${ROUNDS:-3}); do
  ingest "without events, round $round" allot_outbox_off outbox-off "" "$KEY"
  BASE=$RATE; WRITTEN=$(events)
  ingest "with events and NATS, round $round" allot_outbox_on outbox-on nats://127.0.0.1:4222 "$KEY"
  if [ -n "${FLOOR:-}" ]; then
    FLOOR_RATE=$(python3 -c "print(round(0.85 * $BASE * ($(events) - $WRITTEN) / $MOVEMENTS))")
    ingest "without events, the broker alone storing $FLOOR_RATE events/s (85 % of $BASE mov/s \
times $(( $(events) - WRITTEN )) events per $MOVEMENTS movements), round $round" \
      allot_outbox_off outbox-off "" "$KEY" "$FLOOR_RATE"
  fi
done
echo "== events written: $(psql -tAX $PG/allot_outbox_on -c 'SELECT count(*) FROM stock_events'), \
unpublished: $(unpublished)" >> $OUT
# The broker rounds' streams are the bench's own: delete them (JetStream's API, no NATS CLI).
python3 - ${ROUNDS:-3} <<'PY'
import socket, sys
nats = socket.create_connection(("127.0.0.1", 4222), timeout=5); nats.recv(4096)
nats.sendall(b"CONNECT {}\r\nSUB _INBOX.bench 1\r\n")
for round in range(1, int(sys.argv[1]) + 1):
    nats.sendall(f"PUB $JS.API.STREAM.DELETE.FLOOR{round} _INBOX.bench 0\r\n\r\n".encode())
    nats.recv(4096)
PY
echo "== done ($(stamp))" >> $OUT
