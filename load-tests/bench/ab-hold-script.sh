#!/usr/bin/env bash
# After pair-old-new.sh (its databases and bin-old/, bin-new/), from the same folder.
# The hold script alone in Redis, old and new alternating: redis-benchmark, 50 clients.
set -u
for round in 1 2; do for v in old new; do
  sha=$(redis-cli -h 127.0.0.1 SCRIPT LOAD "$(${BIN:-bin}-$v/allot-load-tests hold-script)")
  tag="{rbench:s:SKU}"
  redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" >/dev/null
  redis-cli -h 127.0.0.1 SET "$tag:b:S1" "1:1000000000" EX 600 >/dev/null
  printf "%s round %s: " $v $round
  redis-benchmark -h 127.0.0.1 -c 50 -n 300000 -r 1000000000 -q \
    EVALSHA "$sha" 5 "{rbench:h:__rand_int__}" "{rbench:c:}" "$tag:b:S1" "$tag:h" "$tag:n" \
    "h__rand_int__" 60000 "" '[{"sku":"SKU","location":"S1","qty":1}]' fp 0 held 1 S1 \
    | tr '\r' '\n' | tail -n 1 | sed 's/.*: \([0-9.]* requests per second\).*/\1/'
  redis-cli -h 127.0.0.1 DEL "$tag:h" "$tag:n" "$tag:b:S1" >/dev/null
  redis-cli -h 127.0.0.1 EVAL "local n=0 for _,k in ipairs(redis.call('KEYS','{rbench:h:*')) do redis.call('DEL',k) n=n+1 end return n" 0 > /dev/null
done; done
