#!/usr/bin/env bash
# The "## Planning" figures of docs/BENCHMARKS.md: a synthetic chain (plans-seed.sql) in its
# own database, then a full rebalance dry run timed with its peak memory, and the replenishment.
# Usage: load-tests/bench/run-plans.sh [STORES SKUS CARRY]   (default 1000 100000 50)
# SEED=0 reuses the seeded database; RUN=0 only seeds.
set -eu -o pipefail
STORES=${1:-1000} SKUS=${2:-100000} CARRY=${3:-50}
HERE=$(cd "$(dirname "$0")" && pwd)
DB=allot_plans_bench PG=postgres://postgres@127.0.0.1:5432
ALLOT=${ALLOT:-./target/release/allot}
mkdir -p results
if [ "${SEED:-1}" = 1 ]; then
  psql -qX "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  DATABASE_URL=$PG/$DB "$ALLOT" migrate
  /usr/bin/time -f "seed: %e s" psql -qX -v stores="$STORES" -v skus="$SKUS" -v carry="$CARRY" \
    -f "$HERE/plans-seed.sql" "$PG/$DB" 2>&1 | tee results/plans-seed.txt
fi
[ "${RUN:-1}" = 1 ] || exit 0
for kind in rebalance replenish; do
  DATABASE_URL=$PG/$DB /usr/bin/time -v "$ALLOT" "$kind" --report results/plans \
    > "results/plans-$kind.txt" 2> "results/plans-$kind.log"
  cat "results/plans-$kind.txt"
  grep -E "Elapsed|Maximum resident" "results/plans-$kind.log"
done
