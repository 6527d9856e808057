#!/usr/bin/env bash
# saga_bench.sh: `tri bench saga` against a 1-member and a 3-member `tri server`
# cluster (fsync on): a 10-step chain with one client (latency), 5-step chains
# and diamonds with many clients (throughput); per run, completed sagas per
# second, end-to-end p50/p99, and from the servers: log entries applied and
# fdatasyncs per saga (the leader's /metrics) and CPU seconds per saga (all
# members, /proc). Prints a table and writes JSON. See bench/README.md.
#
# usage: bench/saga_bench.sh [BUILD_DIR]        (default build/release)
# env:   TOTAL=small|full|N   sagas per throughput run (small: a smoke run)
#        SIZES="3 1"          cluster sizes
#        CLIENTS="64 256"     clients of the throughput runs
#        OUT_JSON=PATH        results file (default BUILD_DIR/saga_bench.json)
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD_DIR=${1:-build/release}
TRI=${TRI:-$BUILD_DIR/src/cli/tri}
OUT_JSON=${OUT_JSON:-$BUILD_DIR/saga_bench.json}
SIZES=${SIZES:-"3 1"}
read -r -a CLIENTS <<<"${CLIENTS:-64 256}"
case "${TOTAL:-full}" in
  small) TOTAL_N=300 LAT_N=30 ;;
  full) TOTAL_N=20000 LAT_N=500 ;;
  *[!0-9]* | "") echo "TOTAL must be small, full or a number" >&2; exit 2 ;;
  *) TOTAL_N=$TOTAL LAT_N=$(( TOTAL / 10 > 0 ? TOTAL / 10 : 1 )) ;;
esac

[[ -x $TRI ]] || { echo "saga_bench: $TRI not built" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/saga_bench.XXXXXX")
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
PIDS=()
METRICS=()

stop_cluster() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
  METRICS=()
}
cleanup() { stop_cluster; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Sum over members of a Prometheus counter (entries applied are the same on
# every member: take the maximum; fsyncs add up).
metric() {
  local name=$1 how=$2
  python3 - "$name" "$how" "${METRICS[@]}" <<'PY'
import sys, urllib.request
name, how, urls = sys.argv[1], sys.argv[2], sys.argv[3:]
values = []
for url in urls:
    try:
        text = urllib.request.urlopen(url + "/metrics", timeout=5).read().decode()
    except OSError:
        continue
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            values.append(float(line.rsplit(" ", 1)[1]))
print(max(values) if how == "max" else sum(values))
PY
}

start_trinity() {
  local n=$1 i cluster="" ports
  read -r -a ports <<<"$(free_ports $((4 * n)))"
  for ((i = 0; i < n; i++)); do cluster+="${cluster:+,}t$i=http://127.0.0.1:${ports[4 * i + 1]}"; done
  ENDPOINTS=""
  for ((i = 0; i < n; i++)); do
    local client=http://127.0.0.1:${ports[4 * i]} peer=http://127.0.0.1:${ports[4 * i + 1]}
    local metrics=http://127.0.0.1:${ports[4 * i + 2]} http=http://127.0.0.1:${ports[4 * i + 3]}
    mkdir -p "$WORK/tri$n-$i"
    "$TRI" server --name "t$i" --data-dir "$WORK/tri$n-$i/data" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --listen-metrics-urls "$metrics" --listen-http-urls "$http" \
      --initial-cluster "$cluster" >"$WORK/tri$n-$i/log" 2>&1 &
    PIDS+=($!)
    METRICS+=("$metrics")
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:${ports[4 * i]}"
  done
  local deadline=$((SECONDS + 60))
  until "$TRI" endpoint health --endpoints "$ENDPOINTS" --dial-timeout 500ms >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { echo "saga_bench: cluster not healthy; logs in $WORK" >&2; trap - EXIT; exit 1; }
    sleep 0.2
  done
}

run() {  # run SIZE SHAPE STEPS CLIENTS TOTAL
  local size=$1 shape=$2 steps=$3 clients=$4 total=$5 cpu0 cpu1 e0 e1 f0 f1 report
  cpu0=$(cpu_seconds)
  e0=$(metric etcd_server_proposals_applied_total max)
  f0=$(metric etcd_disk_wal_fsync_duration_seconds_count sum)
  report=$("$TRI" bench saga --endpoints "$ENDPOINTS" --shape "$shape" --steps "$steps" \
    --clients "$clients" --total "$total" --json)
  cpu1=$(cpu_seconds)
  e1=$(metric etcd_server_proposals_applied_total max)
  f1=$(metric etcd_disk_wal_fsync_duration_seconds_count sum)
  python3 - "$size" "$report" "$cpu0" "$cpu1" "$e0" "$e1" "$f0" "$f1" >>"$RESULTS" <<'PY'
import json, sys
size, report = int(sys.argv[1]), json.loads(sys.argv[2])
cpu0, cpu1, e0, e1, f0, f1 = map(float, sys.argv[3:])
done = max(report["completed"] + report["other_terminal"], 1)
print(json.dumps({"members": size, "report": report,
                  "entries_per_saga": round((e1 - e0) / done, 3),
                  "fsyncs_per_saga": round((f1 - f0) / done, 3),
                  "cpu_ms_per_saga": round((cpu1 - cpu0) * 1000 / done, 4)}))
PY
  tail -n 1 "$RESULTS" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read()); p = r["report"]
print("  %d members %-7s %3d steps %4d clients: %8.1f completed/s  p50 %7.2f ms  p99 %7.2f ms  "
      "%5.2f entries/saga  %5.2f fsyncs/saga  %6.3f cpu ms/saga  (%d errors)" % (
      r["members"], p["shape"], p["steps"], p["clients"], p["completed_per_s"],
      p["latency_p50_ms"], p["latency_p99_ms"], r["entries_per_saga"], r["fsyncs_per_saga"],
      r["cpu_ms_per_saga"], p["errors"]))'
}

echo "saga_bench: $TOTAL_N sagas per throughput run, $LAT_N per latency run; work dir $WORK"
for size in $SIZES; do
  echo "== trinity, $size member(s)"
  start_trinity "$size"
  run "$size" chain 10 1 "$LAT_N"
  run "$size" chain 1 1 "$LAT_N"
  for clients in "${CLIENTS[@]}"; do
    run "$size" chain 5 "$clients" "$TOTAL_N"
    run "$size" diamond 5 "$clients" "$TOTAL_N"
  done
  stop_cluster
done
python3 -c 'import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])], indent=1))' \
  "$RESULTS" >"$OUT_JSON"
echo "saga_bench: results in $OUT_JSON"
