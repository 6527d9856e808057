#!/usr/bin/env bash
# Soak run of the deterministic Raft simulator: many seeds of 3- and 5-node
# clusters under every fault, in parallel chunks. Any failing seed is printed
# with the command that replays it, and the script exits non-zero.
#
#   scripts/sim-soak.sh                 # 5000 seeds per cluster size, from seed 1
#   SEEDS=20000 FIRST=100000 OPS=3000 scripts/sim-soak.sh
#   TRI_SIM=build/h-sim/src/sim/tri-sim JOBS=2 scripts/sim-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-5000}
first=${FIRST:-1}
ops=${OPS:-2000}
jobs=${JOBS:-$(nproc)}
faults=${FAULTS:-all}
sizes=${NODES:-"3 5"}
bug=${BUG:-none}  # e.g. BUG=stale-read to see a failure report
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
    "$bin" raft --seeds "$lo..$hi" --nodes "$n" --ops "$ops" --clients 5 --keys "${KEYS:-5}" --faults "$faults" \
      --inject-bug "$bug" --quiet >"$out/n$n-$j.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  pids=()
  grep -h "FAILED" -A2 "$out"/n"$n"-*.log || true
  echo "sim-soak: $n nodes, seeds $first..$(( first + seeds - 1 )): $(grep -h "^tri-sim:" "$out"/n"$n"-*.log | awk '{s += $5} END {print s+0}') failed"
  [ $status -eq 0 ] || failed=1
done
echo "sim-soak: finished in $(( $(date +%s) - start ))s"
exit ${failed:-0}
