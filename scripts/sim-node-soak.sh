#!/usr/bin/env bash
# Soak run of the node simulator (`tri-sim node`, docs/simulation-node.md): many
# seeds of 1-, 3- and 5-member clusters of real nodes (NodeCore on the WAL over
# simulated disks) under every fault, in parallel chunks. Every failing seed is
# printed with the command that replays it, and the script exits non-zero.
#
#   scripts/sim-node-soak.sh                    # 3000 seeds per cluster size, from seed 1
#   SEEDS=20000 FIRST=100000 OPS=2000 scripts/sim-node-soak.sh
#   NODES="3" FAULTS=crash,disk BUG=ack-before-sync SEEDS=50 scripts/sim-node-soak.sh
#   TRI_SIM=build/debug/src/sim/tri-sim JOBS=2 scripts/sim-node-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-3000}
first=${FIRST:-1}
ops=${OPS:-1000}
jobs=${JOBS:-$(nproc)}
faults=${FAULTS:-all}
sizes=${NODES:-"1 3 5"}
bug=${BUG:-none}  # e.g. BUG=ack-before-sync to see failure reports
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
    "$bin" node --seeds "$lo..$hi" --nodes "$n" --ops "$ops" --clients 5 --keys "${KEYS:-4}" \
      --faults "$faults" --inject-bug "$bug" --quiet >"$out/n$n-$j.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  pids=()
  grep -h "FAILED" -A2 "$out"/n"$n"-*.log || true
  echo "sim-node-soak: $n node(s), seeds $first..$(( first + seeds - 1 )):" \
    "$(grep -h "^tri-sim node:" "$out"/n"$n"-*.log | awk '{s += $6} END {print s+0}') failed"
  [ $status -eq 0 ] || failed=1
done
echo "sim-node-soak: finished in $(( $(date +%s) - start ))s"
exit ${failed:-0}
