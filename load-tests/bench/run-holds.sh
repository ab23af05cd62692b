#!/usr/bin/env bash
# The "Holds" figures of docs/BENCHMARKS.md in one run: single-line holds through the HTTP API,
# then redis-benchmark running the service's own hold script (EVALSHA, one line, one unit) on the
# same Redis. Needs the seeded chain served by a release `allot serve` on 127.0.0.1:8090.
# Usage: load-tests/bench/run-holds.sh [path/to/allot-load-tests]
set -eu
LT=${1:-./target/release/allot-load-tests}
mkdir -p results
stamp() { date -u +%FT%TZ; }
echo "== holds through HTTP ($(stamp))" | tee results/holds_http.txt
"$LT" holds --duration 15s --warmup 3s --concurrency 64 | tee -a results/holds_http.txt
echo "== holds through HTTP, 128 in flight ($(stamp))" | tee results/holds_http_c128.txt
"$LT" holds --duration 15s --warmup 3s --concurrency 128 | tee -a results/holds_http_c128.txt
sha=$(redis-cli -h 127.0.0.1 SCRIPT LOAD "$("$LT" hold-script)")
tag="{rbench:s:SKU}"
redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" >/dev/null
redis-cli -h 127.0.0.1 SET "$tag:b:S1" "1:1000000000" EX 600 >/dev/null
# Records expire a minute after the run (ttl 60 s, no retention), so the benchmark leaves nothing.
echo "== redis-benchmark, the same script ($(stamp))" | tee results/holds_redis.txt
redis-benchmark -h 127.0.0.1 -c 50 -n 300000 -r 1000000000 -q \
  EVALSHA "$sha" 5 "{rbench:h:__rand_int__}" "{rbench:c:}" "$tag:b:S1" "$tag:h" "$tag:n" \
  "h__rand_int__" 60000 "" '[{"sku":"SKU","location":"S1","qty":1}]' fp 0 held 1 S1 \
  | tr '\r' '\n' | tail -n 1 | tee -a results/holds_redis.txt
redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" "$tag:b:S1" >/dev/null
