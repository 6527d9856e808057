#!/usr/bin/env bash
# Soak run of the coordination simulator (`tri-sim coord`,
# docs/simulation-coordination.md): many seeds of 1-, 3- and 5-member clusters
# running leases, fenced locks, barriers and watches under every fault, in
# parallel chunks. Every failing seed is printed with the command that replays
# it, and the script exits non-zero. A chunk that dies (a core assertion) is
# reported with the end of its output.
#
#   scripts/coord-soak.sh                          # 1000 seeds per cluster size
#   SEEDS=5000 FIRST=100000 CLIENTS=16 LOCKS=2 DURATION_MS=30000 scripts/coord-soak.sh
#   NODES="3" BUG=grant-to-last-waiter SEEDS=50 scripts/coord-soak.sh
#   TRI_SIM=build/debug/src/sim/tri-sim JOBS=2 scripts/coord-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-1000}
first=${FIRST:-1}
clients=${CLIENTS:-8}
locks=${LOCKS:-3}
barriers=${BARRIERS:-6}
duration_ms=${DURATION_MS:-12000}
jobs=${JOBS:-$(nproc)}
faults=${FAULTS:-all}
sizes=${NODES:-"1 3 5"}
bug=${BUG:-none}  # e.g. BUG=ignore-keep-alives to see failure reports
bin=${TRI_SIM:-build/${PRESET:-release}/src/sim/tri-sim}
if [ ! -x "$bin" ]; then
  cmake --preset "${PRESET:-release}" >/dev/null
  cmake --build --preset "${PRESET:-release}" -j "$jobs" --target tri-sim
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
chunk=$(( (seeds + jobs - 1) / jobs ))
start=$(date +%s)
pids=()
for n in $sizes; do
  for ((j = 0; j < jobs; j++)); do
    lo=$(( first + j * chunk ))
    hi=$(( lo + chunk - 1 ))
    last=$(( first + seeds - 1 ))
    (( hi > last )) && hi=$last
    (( lo > hi )) && continue
    "$bin" coord --seeds "$lo..$hi" --nodes "$n" --clients "$clients" --locks "$locks" \
      --barriers "$barriers" --duration-ms "$duration_ms" --faults "$faults" \
      --inject-bug "$bug" --quiet >"$out/n$n-$j.log" 2>&1 &
    pids+=("$!:$out/n$n-$j.log")
  done
  status=0
  for entry in "${pids[@]}"; do
    pid=${entry%%:*}
    log=${entry#*:}
    if ! wait "$pid"; then
      status=1
      if ! grep -q "^tri-sim coord:" "$log"; then
        echo "coord-soak: a chunk died ($log); its last lines:"
        tail -n 5 "$log"
      fi
    fi
  done
  pids=()
  grep -h "FAILED" -A2 "$out"/n"$n"-*.log || true
  echo "coord-soak: $n node(s), seeds $first..$(( first + seeds - 1 )):" \
    "$(grep -h "^tri-sim coord:" "$out"/n"$n"-*.log | awk '{s += $6} END {print s+0}') failed"
  [ $status -eq 0 ] || failed=1
done
echo "coord-soak: finished in $(( $(date +%s) - start ))s"
exit ${failed:-0}
