#!/usr/bin/env bash
# The goal runs of the SWIM simulator (`tri-sim swim --goals`,
# docs/membership.md): crash detection at N=100 and N=1,000 with 1% loss,
# dissemination and bandwidth at N=1,000 with 10% loss (SEEDS seeds each), and
# the false-positive scenario (5% loss, 10% of members stalling 0.5-2 s) with
# Lifeguard on, off, and plain SWIM side by side (FP_SEEDS seeds, each
# FP_DURATION_MS of FP_NODES members). Each part prints its pooled figures and
# goal table, with its wall time. The false-positive goal needs ~300,000
# node-hours to be shown at 95% with none seen; raise FP_SEEDS as far as the
# machine allows.
#
#   scripts/swim-goals.sh                              # 2 seeds; 40 x 100 node-h
#   SEEDS=5 FP_SEEDS=400 JOBS=8 scripts/swim-goals.sh
#   PARTS=fp FP_FIRST=1001 FP_SEEDS=200 scripts/swim-goals.sh   # more node-hours
#   EXTRA="--suspicion-unit-ms 400" scripts/swim-goals.sh        # a tuning to try
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-2}
first=${FIRST:-1}
fp_seeds=${FP_SEEDS:-40}
fp_first=${FP_FIRST:-1}
fp_nodes=${FP_NODES:-100}
fp_duration_ms=${FP_DURATION_MS:-3600000}
jobs=${JOBS:-$(nproc)}
parts=${PARTS:-"detect,dissemination fp"}
extra=${EXTRA:-}
bin=${TRI_SIM:-build/${PRESET:-release}/src/sim/tri-sim}
if [ ! -x "$bin" ]; then
  cmake --preset "${PRESET:-release}" >/dev/null
  cmake --build --preset "${PRESET:-release}" -j "$jobs" --target tri-sim
fi
status=0
for part in $parts; do
  if [ "$part" = fp ]; then
    range="$fp_first..$((fp_first + fp_seeds - 1))"
  else
    range="$first..$((first + seeds - 1))"
  fi
  echo "== tri-sim swim --goals --goals-only $part --seeds $range --jobs $jobs $extra"
  start=$(date +%s)
  # shellcheck disable=SC2086  # EXTRA holds several flags
  "$bin" swim --goals --goals-only "$part" --seeds "$range" --jobs "$jobs" \
    --fp-nodes "$fp_nodes" --fp-duration-ms "$fp_duration_ms" $extra || status=1
  echo "== $part: $(( $(date +%s) - start )) s wall"
done
exit $status
