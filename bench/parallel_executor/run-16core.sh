#!/usr/bin/env bash
# One shot on a many-core machine: builds only bench_parallel_executor (release
# preset) and runs it with threads 1,2,4,8,16, writing the JSON document and the
# printed table next to each other. Run from anywhere inside the repository.
#
#   bench/parallel_executor/run-16core.sh [OUT_PREFIX] [extra bench flags...]
#
# OUT_PREFIX defaults to parallel_executor-<host>-<UTC time>; the files are
# OUT_PREFIX.json and OUT_PREFIX.txt. Environment: THREADS (1,2,4,8,16), REPS
# (5), BUILD_DIR (build/release), JOBS (nproc). Extra flags pass through, e.g.
# `--txns 1000 --accounts 2,10000` for a smoke run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
prefix=${1:-parallel_executor-$(hostname)-$(date -u +%Y%m%dT%H%M%SZ)}
[ $# -gt 0 ] && shift
threads=${THREADS:-1,2,4,8,16}
reps=${REPS:-5}
build=${BUILD_DIR:-build/release}
jobs=${JOBS:-$(nproc)}

cores=$(nproc)
if [ "$cores" -lt 16 ]; then
  echo "note: $cores cores here; the 16-thread goal is reported as not measured" >&2
fi

cmake --preset release >/dev/null
cmake --build "$build" -j"$jobs" --target bench_parallel_executor

{
  echo "# $(date -u +%FT%TZ) $(hostname) $(git rev-parse --short HEAD) nproc=$cores"
  echo "# $(grep -m1 'model name' /proc/cpuinfo || true)"
  echo "# load average: $(cat /proc/loadavg)"
} >"$prefix.txt"
"$build/bench/parallel_executor/bench_parallel_executor" --threads "$threads" --reps "$reps" \
  --json "$prefix.json" "$@" | tee -a "$prefix.txt"
echo "wrote $prefix.json and $prefix.txt"
