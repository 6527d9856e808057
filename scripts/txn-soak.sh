#!/usr/bin/env bash
# Soak run of the parallel transaction executor's serial-equivalence properties
# (tests/txn/txn_props_test.cc, docs/transactions.md): one process per seed,
# JOBS at a time, each running every property (or FILTER's) for MAX_SUCCESS
# generated batches per property. Every failing seed is printed with
# RapidCheck's shrunk counterexample and the command that replays it, and the
# script exits non-zero. A run that dies (a core assertion, a crash) is
# reported with the end of its output.
#
#   scripts/txn-soak.sh                               # 8 seeds x 4 properties x 50,000 = 1.6 million batches
#   SEEDS=40 FIRST=1000 MAX_SUCCESS=100000 scripts/txn-soak.sh      # 16 million
#   FILTER='TxnProps.OptimisticEqualsSerial' SEEDS=4 scripts/txn-soak.sh
#   TXN_PROPS=build/debug/tests/txn/txn_props_test JOBS=2 scripts/txn-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-8}
first=${FIRST:-1}
max_success=${MAX_SUCCESS:-50000}
jobs=${JOBS:-$(nproc)}
filter=${FILTER:-TxnProps.*}
bin=${TXN_PROPS:-build/${PRESET:-release}/tests/txn/txn_props_test}
if [ ! -x "$bin" ]; then
  cmake --preset "${PRESET:-release}" >/dev/null
  cmake --build --preset "${PRESET:-release}" -j "$jobs" --target txn_props_test
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
failed=()

# Reports one finished seed: its failures with the replay command, or its death.
report() {
  local seed=$1 status=$2 log="$out/seed-$1.log"
  [ "$status" -eq 0 ] && return
  failed+=("$seed")
  echo "txn-soak: seed $seed FAILED; replay with:"
  echo "  RC_PARAMS=\"seed=$seed max_success=$max_success\" $bin --gtest_filter='$filter'"
  if grep -q "Falsifiable" "$log"; then
    sed -n '/Falsifiable/,/^\[  FAILED  \]/p' "$log" | head -n 60
    grep -h -A1 "To reproduce these" "$log" | tail -n 1 || true
  else
    echo "txn-soak: seed $seed died (status $status); its last lines:"
    tail -n 15 "$log"
  fi
}

declare -A pid_seed=()
for ((seed = first; seed < first + seeds; seed++)); do
  while [ "${#pid_seed[@]}" -ge "$jobs" ]; do
    set +e
    wait -n -p done_pid
    status=$?
    set -e
    report "${pid_seed[$done_pid]}" "$status"
    unset "pid_seed[$done_pid]"
  done
  RC_PARAMS="seed=$seed max_success=$max_success" "$bin" --gtest_filter="$filter" \
    >"$out/seed-$seed.log" 2>&1 &
  pid_seed[$!]=$seed
done
while [ "${#pid_seed[@]}" -gt 0 ]; do
  set +e
  wait -n -p done_pid
  status=$?
  set -e
  report "${pid_seed[$done_pid]}" "$status"
  unset "pid_seed[$done_pid]"
done

batches=$(grep -h "^txn_props: " "$out"/seed-*.log | awk '{s += $2} END {print s + 0}')
txns=$(grep -h "^txn_props: " "$out"/seed-*.log |
  sed -n 's/.* with \([0-9]*\) transactions.*/\1/p' | awk '{s += $1} END {print s + 0}')
echo "txn-soak: seeds $first..$((first + seeds - 1)), $batches batches, $txns transactions," \
  "${#failed[@]} failed seed(s)${failed[*]:+: ${failed[*]}}; finished in $(($(date +%s) - start))s"
[ "${#failed[@]}" -eq 0 ]
