#!/usr/bin/env bash
# Soak run of the saga simulator (`tri-sim saga`, docs/simulation-sagas.md): many
# seeds of 3- and 5-member clusters running durable sagas (random DAGs up to
# MAX_STEPS steps) under every fault, in parallel chunks. Every failing seed is
# printed with the command that replays it, and the script exits non-zero. A
# chunk that dies (a core assertion) is reported with the end of its output.
#
#   scripts/saga-soak.sh                       # 500 seeds per cluster size, DAGs up to 200 steps
#   SEEDS=5000 FIRST=100000 SAGAS=100 scripts/saga-soak.sh
#   NODES="3" FAULTS=crash,late BUG=accept-stale-result SEEDS=50 scripts/saga-soak.sh
#   TRI_SIM=build/debug/src/sim/tri-sim JOBS=2 scripts/saga-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-500}
first=${FIRST:-1}
sagas=${SAGAS:-50}
max_steps=${MAX_STEPS:-200}
jobs=${JOBS:-$(nproc)}
faults=${FAULTS:-all}
sizes=${NODES:-"3 5"}
bug=${BUG:-none}  # e.g. BUG=accept-stale-result to see failure reports
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
    "$bin" saga --seeds "$lo..$hi" --nodes "$n" --sagas "$sagas" --max-steps "$max_steps" \
      --faults "$faults" --inject-bug "$bug" --quiet >"$out/n$n-$j.log" 2>&1 &
    pids+=("$!:$out/n$n-$j.log")
  done
  status=0
  for entry in "${pids[@]}"; do
    pid=${entry%%:*}
    log=${entry#*:}
    if ! wait "$pid"; then
      status=1
      if ! grep -q "^tri-sim saga:" "$log"; then
        echo "saga-soak: a chunk died ($log); its last lines:"
        tail -n 5 "$log"
      fi
    fi
  done
  pids=()
  grep -h "FAILED" -A2 "$out"/n"$n"-*.log || true
  echo "saga-soak: $n node(s), seeds $first..$(( first + seeds - 1 )), up to $max_steps steps:" \
    "$(grep -h "^tri-sim saga:" "$out"/n"$n"-*.log | awk '{s += $6} END {print s+0}') failed"
  [ $status -eq 0 ] || failed=1
done
echo "saga-soak: finished in $(( $(date +%s) - start ))s"
exit ${failed:-0}
