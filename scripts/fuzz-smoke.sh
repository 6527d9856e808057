#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a short,
# fixed time from its seed corpus, as many at once as there are cores. A crash,
# leak or hang fails the script.
set -euo pipefail
seconds=${1:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
cd "$(dirname "$0")/.."
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target fuzzers
shopt -s nullglob
logs=build/fuzz/logs
rm -rf "$logs"
mkdir -p "$logs"

run_one() {
  local bin=$1 seconds=$2 logs=$3
  local name corpus seeds=()
  name=$(basename "$bin")
  corpus="build/fuzz/corpus/$name"
  mkdir -p "$corpus"
  [ -d "fuzz/seeds/$name" ] && seeds=("fuzz/seeds/$name")
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "$corpus" "${seeds[@]}" >"$logs/$name.log" 2>&1; then
    echo "fuzz: $name ran ${seconds}s without a crash"
  else
    echo "fuzz: $name FAILED"
    tail -n 40 "$logs/$name.log"
    return 1
  fi
}
export -f run_one

bins=()
for bin in build/fuzz/fuzz/fuzz_*; do
  [ -x "$bin" ] && bins+=("$bin")
done
echo "fuzz: ${#bins[@]} target(s), ${seconds}s each, $jobs at a time"
status=0
printf '%s\n' "${bins[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$logs" ||
  status=1
[ "$status" -eq 0 ] && echo "fuzz: ${#bins[@]} target(s) ran without a crash"
exit "$status"
