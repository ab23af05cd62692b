#!/usr/bin/env bash
# CPU seconds used by each party over an interval: the service, its PostgreSQL backends (those
# connected to DB), every other postgres process, Redis and the load generator.
# Usage: cpu-split.sh SECONDS DB   (run it beside a load run of the same length)
set -euo pipefail
seconds=${1:?seconds}
db=${2:?database name}
tick=$(getconf CLK_TCK)
sample() {
  for stat in /proc/[0-9]*/stat; do
    pid=${stat#/proc/}; pid=${pid%/stat}
    args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || continue
    fields=$(cat "$stat" 2>/dev/null) || continue
    # utime and stime are fields 14 and 15; the command name may hold spaces, so cut after ')'.
    rest=${fields##*) }
    read -r -a f <<< "$rest"
    ticks=$(( f[11] + f[12] ))
    case "$args" in
      *"allot serve"*) party=service ;;
      *allot-load-tests*) party=load-generator ;;
      *pgbench*) party=load-generator ;;
      "postgres: "*" $db "*) party=postgres-backends ;;
      postgres*) party=postgres-other ;;
      *redis-server*) party=redis ;;
      *) continue ;;
    esac
    echo "$pid $party $ticks"
  done
}
before=$(sample)
sleep "$seconds"
after=$(sample)
# Processes present at both samples only (pool connections live through the run).
join <(sort <<< "$before") <(sort <<< "$after") | awk -v tick="$tick" -v s="$seconds" '
  { used[$2] += ($5 - $3) / tick }
  END { for (p in used) printf "%-18s %7.2f cpu-s  %5.0f%% of one core\n", p, used[p], 100 * used[p] / s }' | sort
