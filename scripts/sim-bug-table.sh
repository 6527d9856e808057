#!/usr/bin/env bash
# Measures, for every bug tri-sim can inject, the fraction of seeds of each CI
# batch configuration (tests/sim/CMakeLists.txt, TRI_SIM_CI_*) that catch it, and
# which invariants report it. Prints a Markdown table (docs/simulation.md).
# Keep the configurations below in step with tests/sim/CMakeLists.txt.
#
#   scripts/sim-bug-table.sh                       # every bug
#   BUGS="commit-by-count double-vote" JOBS=2 scripts/sim-bug-table.sh
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${JOBS:-$(nproc)}
bin=${TRI_SIM:-build/${PRESET:-release}/src/sim/tri-sim}
if [ ! -x "$bin" ]; then
  cmake --preset "${PRESET:-release}" >/dev/null
  cmake --build --preset "${PRESET:-release}" -j "$jobs" --target tri-sim
fi
bugs=${BUGS:-"vote-not-persisted-same-term accept-stale-term-append heartbeat-no-timer-reset
  learners-count-for-commit read-before-own-term-commit commit-by-count double-vote forget-vote
  stale-read lazy-fsync"}
ci="--ops 1500 --clients 5 --faults all --quiet"
declare -A configs=(
  [n1]="--seeds 1..200 --nodes 1 $ci"
  [n3]="--seeds 1..300 --nodes 3 $ci"
  [n5]="--seeds 1..200 --nodes 5 $ci"
  [nlc]="--seeds 1..300 --nodes 3 --ops 1000 --clients 5 --faults all --new-leader-crashes 0.3 --quiet"
)
order="n1 n3 n5 nlc"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for bug in $bugs; do
  for c in $order; do
    # shellcheck disable=SC2086
    echo "$bin raft ${configs[$c]} --inject-bug $bug > $out/$bug.$c.log 2>&1 || true"
  done
done | xargs -P "$jobs" -I{} bash -c {}

echo "| bug | 1 node (200 seeds) | 3 nodes (300) | 5 nodes (200) | new-leader crashes (300) | all 1000 seeds | caught as |"
echo "|---|---|---|---|---|---|---|"
for bug in $bugs; do
  row="| \`$bug\`"
  total=0
  caught=0
  for c in $order; do
    log=$out/$bug.$c.log
    runs=$(sed -nE 's/^tri-sim: ([0-9]+) seed\(s\).*/\1/p' "$log")
    failed=$(grep -c ': FAILED ' "$log" || true)
    total=$((total + runs))
    caught=$((caught + failed))
    row="$row | $failed ($(awk -v f="$failed" -v r="$runs" 'BEGIN { printf "%.1f%%", 100 * f / r }'))"
  done
  how=$(cat "$out/$bug".*.log | sed -nE 's/.*: FAILED ([^:]+):.*/\1/p' | sort | uniq -c | sort -rn |
        awk '{ c = $1; $1 = ""; sub(/^ /, ""); printf "%s%s %d", sep, $0, c; sep = ", " }')
  row="$row | $caught ($(awk -v f="$caught" -v r="$total" 'BEGIN { printf "%.1f%%", 100 * f / r }')) | ${how:-none} |"
  echo "$row"
done
