#!/usr/bin/env bash
# CPU seconds used by each party over an interval: the service, its PostgreSQL backends (those
# connected to DB), every other postgres process, Redis and the load generator.
# Usage: cpu-split.sh SECONDS DB   (start it after the load run has started; it counts only
# processes alive at both ends). The last line is the whole machine, other users included.
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
      *"allot serve"*|*"allot-old serve"*|*"allot-new serve"*) party=service ;;
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
machine() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
before=$(sample)
read -r busy0 idle0 < <(machine)
t0=$(date +%s.%N)
sleep "$seconds"
read -r busy1 idle1 < <(machine)
t1=$(date +%s.%N)
after=$(sample)
# Percentages over the measured interval (the /proc walks themselves take a moment).
seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
# Processes present at both samples only (pool connections live through the run).
join <(sort <<< "$before") <(sort <<< "$after") | awk -v tick="$tick" -v s="$seconds" '
  { used[$2] += ($5 - $3) / tick }
  END { for (p in used) printf "%-18s %7.2f cpu-s  %5.0f%% of one core\n", p, used[p], 100 * used[p] / s }' | sort
awk -v b="$(( busy1 - busy0 ))" -v i="$(( idle1 - idle0 ))" -v tick="$tick" -v s="$seconds" \
  'BEGIN { printf "%-18s %7.2f cpu-s  %5.0f%% of one core (idle %.2f cpu-s)\n", "whole machine", b / tick, 100 * b / tick / s, i / tick }'
