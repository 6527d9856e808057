#!/usr/bin/env bash
# Soak run of the CRDT convergence properties (tests/crdt/, docs/crdt.md): the
# same gtest cases `make test` runs, with more schedules and fresh seeds. Every
# case of every crdt test binary whose name matches FILTER runs as its own
# process, JOBS at a time, with
#   CRDT_SCHEDULES  schedules per type (split over the type's batch cases; the CI
#                   default is 1,000,000), default 10,000,000
#   CRDT_SEED       added to every batch's first seed (default: the clock), so a
#                   soak covers seeds CI never ran; printed for replay
#   RC_PARAMS       RapidCheck's cases for the shrinkable properties, default
#                   max_success=10000
# A failing case prints its seed, the failing schedule and a step-by-step trace
# (tests/crdt/convergence.h), plus the command that replays it; the script exits
# non-zero.
#
#   scripts/crdt-soak.sh                                  # 10^7 schedules per type
#   CRDT_SCHEDULES=100000000 JOBS=2 scripts/crdt-soak.sh  # 10^8
#   FILTER='*OrSet*' CRDT_SEED=42 scripts/crdt-soak.sh    # one type, fixed seeds
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${PRESET:-release}
schedules=${CRDT_SCHEDULES:-10000000}
seed=${CRDT_SEED:-$(date +%s)000000}
rc_params=${RC_PARAMS:-max_success=10000}
jobs=${JOBS:-$(nproc)}
filter=${FILTER:-*Convergence*:*Properties*}
build=build/$preset
mapfile -t targets < <(grep -ho 'tri_add_test(crdt_[A-Za-z0-9_]*' tests/crdt/*.cmake | sed 's/tri_add_test(//')
if [ ${#targets[@]} -eq 0 ]; then
  echo "crdt-soak: no crdt test targets in tests/crdt/*.cmake" >&2
  exit 2
fi
cmake --preset "$preset" >/dev/null
cmake --build "$build" -j "$jobs" --target "${targets[@]}"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cases=()
for target in "${targets[@]}"; do
  bin=$build/tests/crdt/$target
  suite=
  while IFS= read -r line; do
    if [[ $line != " "* ]]; then
      suite=${line%%#*}
      suite=${suite// /}
    else
      name=${line%%#*}
      name=${name// /}
      cases+=("$bin $suite$name")
    fi
  done < <("$bin" --gtest_list_tests --gtest_filter="$filter" | tail -n +1)
done
echo "crdt-soak: ${#cases[@]} case(s), CRDT_SCHEDULES=$schedules CRDT_SEED=$seed RC_PARAMS=$rc_params, $jobs at a time"

run_case() {
  local bin=$1 name=$2 out=$3 log
  log="$out/$(basename "$bin").${name//\//_}.log"
  if "$bin" --gtest_filter="$name" >"$log" 2>&1; then
    grep -h '^\[crdt\]' "$log" || true
  else
    echo "crdt-soak: $name FAILED; replay with:"
    echo "  CRDT_SCHEDULES=$CRDT_SCHEDULES CRDT_SEED=$CRDT_SEED RC_PARAMS='$RC_PARAMS' $bin --gtest_filter='$name'"
    tail -n 80 "$log"
    return 1
  fi
}
export -f run_case
export CRDT_SCHEDULES=$schedules CRDT_SEED=$seed RC_PARAMS=$rc_params
start=$(date +%s)
status=0
printf '%s\n' "${cases[@]}" | xargs -P "$jobs" -L 1 bash -c 'run_case "$0" "$1" "'"$out"'"' || status=1
echo "crdt-soak: $(( $(date +%s) - start )) s, $([ $status -eq 0 ] && echo 'all cases passed' || echo 'FAILURES above')"
exit $status
