#!/usr/bin/env bash
# Issue 18's figures in one run, one release build, one seeded chain: holds and lookups with
# Allot's holds on one Redis and on a local 3-master Redis Cluster (alternating, twice), then
# the order path against one instance and against two instances sharing the load.
# Run from the repository after `cargo build --release --bin allot -p allot-load-tests`.
set -u
PG=postgres://postgres@127.0.0.1:5432
B=${BIN:-target/release}
R=${RESULTS:-results}; mkdir -p $R
OUT=$R/scale.txt
DIR=$(mktemp -d /tmp/allot-bench-cluster.XXXX)
PORTS="7101 7102 7103"
stamp() { date -u +%FT%TZ; }
for p in $PORTS; do
  redis-server --port $p --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file $DIR/nodes-$p.conf \
    --save "" --appendonly no --dir $DIR --daemonize yes >/dev/null
done
sleep 1
redis-cli --cluster create $(for p in $PORTS; do echo 127.0.0.1:$p; done) --cluster-replicas 0 --cluster-yes >/dev/null
until redis-cli -p 7101 cluster info | grep -q cluster_state:ok; do sleep 0.2; done
NODES=127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103
serve() { # port prefix cluster-nodes
  # The load generator's one key may go as fast as the service can (no rate or holds cap).
  DATABASE_URL=$PG/allot_scale ALLOT_BIND=127.0.0.1:$1 ALLOT_REDIS_PREFIX=$2 ALLOT_REDIS_CLUSTER=$3 \
    ALLOT_DB_POOL_SIZE=32 ALLOT_RATE_PER_S=10000000 ALLOT_LIVE_HOLDS_MAX=1000000000 RUST_LOG=error "$B/allot" serve > $R/serve-$2-$1.log 2>&1 &
  echo $! >> /tmp/bench-scale.pids
  for i in $(seq 1 120); do curl -sf 127.0.0.1:$1/health >/dev/null && return 0; sleep 0.5; done
  echo "service did not start"; exit 1
}
stop() { kill $(cat /tmp/bench-scale.pids); rm -f /tmp/bench-scale.pids; sleep 2; }
psql -qX $PG/postgres -c "DROP DATABASE IF EXISTS allot_scale" -c "CREATE DATABASE allot_scale"
DATABASE_URL=$PG/allot_scale "$B/allot" migrate >/dev/null 2>&1
export ALLOT_KEY=$(DATABASE_URL=$PG/allot_scale "$B/allot" keys create --role admin --label bench 2>/dev/null | tail -n 1)
rm -f /tmp/bench-scale.pids
serve 8090 scale-seed ""
echo "== seed ($(stamp))" >> $OUT
# Twice: the second pass gives opening stock to any store a busy database refused (503).
for pass in 1 2; do "$B/allot-load-tests" seed >> $OUT 2>&1; done
stop
for round in 1 2; do
  for redis in single cluster; do
    nodes=""; [ $redis = cluster ] && nodes=$NODES
    serve 8090 scale-$redis "$nodes"
    "$B/allot-load-tests" lookups --duration 5s --warmup 2s --concurrency 16 > /dev/null 2>&1
    echo "== $redis Redis, lookups c16, round $round ($(stamp))" >> $OUT
    "$B/allot-load-tests" lookups --duration 15s --warmup 2s --concurrency 16 2>&1 | grep "^stock" >> $OUT
    echo "== $redis Redis, holds c64, round $round ($(stamp))" >> $OUT
    "$B/allot-load-tests" holds --duration 15s --warmup 3s --concurrency 64 2>&1 | grep "^hold" >> $OUT
    stop
  done
done
for round in 1 2; do
  serve 8090 scale-orders ""
  echo "== orders, one instance, c64, round $round ($(stamp))" >> $OUT
  # Each run tags its order ids (--run), so none replays an earlier run's.
  "$B/allot-load-tests" mixed --mix 0,0,0,100 --duration 20s --warmup 2s --concurrency 64 \
    --run $((10 * round)) 2>&1 | grep "^order" >> $OUT
  serve 8091 scale-orders ""
  echo "== orders, two instances, c32 each, round $round ($(stamp))" >> $OUT
  loads=""
  for port in 8090 8091; do
    ALLOT_LOAD_ADDR=127.0.0.1:$port "$B/allot-load-tests" mixed --mix 0,0,0,100 --duration 20s \
      --warmup 2s --concurrency 32 --run $((10 * round + port - 8089)) > $R/orders-$port.txt 2>&1 &
    loads="$loads $!"
  done
  wait $loads
  for port in 8090 8091; do grep "^order" $R/orders-$port.txt | sed "s/^/:$port /" >> $OUT; done
  stop
done
echo "== check ($(stamp))" >> $OUT
DATABASE_URL=$PG/allot_scale "$B/allot-load-tests" check >> $OUT 2>&1 || true
for p in $PORTS; do redis-cli -p $p shutdown nosave >/dev/null 2>&1; done
rm -rf $DIR
echo "== done ($(stamp))" >> $OUT
