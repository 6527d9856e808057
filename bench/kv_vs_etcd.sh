#!/usr/bin/env bash
# kv_vs_etcd.sh: the same KV loads against a 3-member and a 1-member etcd 3.4
# cluster and, when `tri server --help` works, against Trinity clusters of the
# same sizes; one side-by-side table and a JSON file. See bench/README.md.
#
# usage: bench/kv_vs_etcd.sh [BUILD_DIR]        (default build/release)
# env:   TOTAL=small|full|N   requests per put/range run (small: a smoke run)
#        OUT_JSON=PATH        results file (default BUILD_DIR/kv_vs_etcd.json)
#        SIZES="3 1"          cluster sizes to run
#        ETCD=etcd TRI=...    binaries
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD_DIR=${1:-build/release}
TRI=${TRI:-$BUILD_DIR/src/cli/tri}
ETCD=${ETCD:-etcd}
OUT_JSON=${OUT_JSON:-$BUILD_DIR/kv_vs_etcd.json}
SIZES=${SIZES:-"3 1"}
case "${TOTAL:-full}" in
  small) PUT_TOTAL=400 RANGE_TOTAL=1000 ;;
  full) PUT_TOTAL=20000 RANGE_TOTAL=50000 ;;
  *[!0-9]* | "") echo "TOTAL must be small, full or a number" >&2; exit 2 ;;
  *) PUT_TOTAL=$TOTAL RANGE_TOTAL=$TOTAL ;;
esac
PUT_CLIENTS=(1 16 64 256)
RANGE_CLIENTS=(1 16 64)
KEY_SIZE=8
VAL_SIZE=256
KEY_SPACE=100000

[[ -x $TRI ]] || { echo "kv_vs_etcd: $TRI not built (cmake --build $BUILD_DIR --target tri)" >&2; exit 2; }
command -v "$ETCD" >/dev/null || { echo "kv_vs_etcd: $ETCD not installed" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kv_vs_etcd.XXXXXX")
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
PIDS=()

stop_cluster() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
cleanup() {
  stop_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_healthy() {
  local endpoints=$1 deadline=$((SECONDS + 60))
  until "$TRI" endpoint health --endpoints "$endpoints" --dial-timeout 500ms >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "kv_vs_etcd: cluster at $endpoints not healthy after 60 s; logs in $WORK" >&2
      trap - EXIT
      stop_cluster
      exit 1
    fi
    sleep 0.2
  done
}

# start_etcd N: starts an N-member etcd cluster; sets ENDPOINTS.
start_etcd() {
  local n=$1 i cluster="" ports
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  for ((i = 0; i < n; i++)); do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[2 * i + 1]}"
  done
  ENDPOINTS=""
  for ((i = 0; i < n; i++)); do
    local client=http://127.0.0.1:${ports[2 * i]} peer=http://127.0.0.1:${ports[2 * i + 1]}
    mkdir -p "$WORK/etcd$n-$i"
    # fsync stays on (etcd's default; there is no --unsafe-no-fsync here).
    "$ETCD" --name "e$i" --data-dir "$WORK/etcd$n-$i/data" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "kv-vs-etcd-$n" >"$WORK/etcd$n-$i/log" 2>&1 &
    PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:${ports[2 * i]}"
  done
  wait_healthy "$ENDPOINTS"
}

# start_trinity N: the same with `tri server`, whose flags follow etcd's names.
start_trinity() {
  local n=$1 i cluster="" ports
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  for ((i = 0; i < n; i++)); do
    cluster+="${cluster:+,}t$i=http://127.0.0.1:${ports[2 * i + 1]}"
  done
  ENDPOINTS=""
  for ((i = 0; i < n; i++)); do
    local client=http://127.0.0.1:${ports[2 * i]} peer=http://127.0.0.1:${ports[2 * i + 1]}
    mkdir -p "$WORK/tri$n-$i"
    "$TRI" server --name "t$i" --data-dir "$WORK/tri$n-$i/data" \
      --listen-client-urls "$client" --advertise-client-urls "$client" \
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
      --initial-cluster "$cluster" --listen-metrics-urls "" --listen-http-urls "" \
      >"$WORK/tri$n-$i/log" 2>&1 &
    PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:${ports[2 * i]}"
  done
  wait_healthy "$ENDPOINTS"
}

# run_load SYSTEM SIZE LOAD CLIENTS TOTAL tri-bench-args...: one measured run.
run_load() {
  local system=$1 size=$2 load=$3 clients=$4 total=$5
  shift 5
  local conns=$((clients < 16 ? clients : 16))
  local before after report
  before=$(cpu_seconds)
  report=$("$TRI" bench "$@" --endpoints "$ENDPOINTS" --clients "$clients" --conns "$conns" \
    --total "$total" --key-size $KEY_SIZE --key-space-size $KEY_SPACE --json)
  after=$(cpu_seconds)
  printf '{"system":"%s","members":%d,"load":"%s","cpu_s":%s,"report":%s}\n' \
    "$system" "$size" "$load" "$(python3 -c "print(round($after - $before, 4))")" "$report" \
    >>"$RESULTS"
  printf '  %-6s %d members %-8s %3d clients: %s req/s\n' "$system" "$size" "$load" "$clients" \
    "$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['requests_per_s'])" "$report")"
}

run_loads() {
  local system=$1 size=$2 clients total
  for clients in "${PUT_CLIENTS[@]}"; do
    # One client is latency-bound (an fsync per request); it gets a tenth.
    total=$((clients == 1 ? PUT_TOTAL / 10 : PUT_TOTAL))
    run_load "$system" "$size" put "$clients" "$total" put --val-size $VAL_SIZE --target-leader
  done
  "$TRI" kv put bench-range-key "$(head -c $VAL_SIZE /dev/zero | tr '\0' v)" \
    --endpoints "$ENDPOINTS" >/dev/null
  for clients in "${RANGE_CLIENTS[@]}"; do
    total=$((clients == 1 ? RANGE_TOTAL / 10 : RANGE_TOTAL))
    run_load "$system" "$size" range-l "$clients" "$total" range bench-range-key --consistency l
    run_load "$system" "$size" range-s "$clients" "$total" range bench-range-key --consistency s
  done
}

echo "kv_vs_etcd: put $PUT_TOTAL, range $RANGE_TOTAL requests per run; work dir $WORK"
for size in $SIZES; do
  echo "== etcd, $size member(s)"
  start_etcd "$size"
  run_loads etcd "$size"
  stop_cluster
done
# CLI11 answers --help for an unknown subcommand with the top-level help, so
# also require that the top-level help lists `server`.
if "$TRI" server --help >/dev/null 2>&1 && "$TRI" --help 2>/dev/null | grep -Eq '^ +server( |$)'; then
  for size in $SIZES; do
    echo "== trinity, $size member(s)"
    start_trinity "$size"
    run_loads trinity "$size"
    stop_cluster
  done
else
  echo "== trinity: skipped (\`$TRI server --help\` does not work: no server in this build)"
fi

python3 - "$RESULTS" "$OUT_JSON" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def key(r):
    return (r["members"], r["load"], r["report"]["clients"])
by = {}
for r in rows:
    rep = r["report"]
    ok = rep["requests"] - rep["errors"]
    by.setdefault(key(r), {})[r["system"]] = {
        "requests_per_s": rep["requests_per_s"],
        "latency_p50_ms": rep["latency_p50_ms"],
        "latency_p99_ms": rep["latency_p99_ms"],
        "errors": rep["errors"],
        "cpu_s": r["cpu_s"],
        "cpu_us_per_op": r["cpu_s"] * 1e6 / ok if ok else None,
    }
def fmt(v, spec):
    width = int(spec.split(".")[0])
    return "-".rjust(width) if v is None else format(v, spec)
head = (f"{'members':>7} {'load':<8} {'clients':>7} | {'etcd req/s':>10} {'p50 ms':>7} {'p99 ms':>7}"
        f" {'cpu us/op':>9} | {'tri req/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'cpu us/op':>9}"
        f" | {'x req/s':>7} {'x cpu':>6}")
print(head)
print("-" * len(head))
out = []
for k in sorted(by, key=lambda k: (-k[0], k[1], k[2])):
    e, t = by[k].get("etcd"), by[k].get("trinity")
    g = lambda d, f: d[f] if d else None
    ratio = lambda f: (g(t, f) / g(e, f)) if (e and t and g(e, f)) else None
    print(f"{k[0]:>7} {k[1]:<8} {k[2]:>7} | {fmt(g(e,'requests_per_s'),'10.0f')} "
          f"{fmt(g(e,'latency_p50_ms'),'7.2f')} {fmt(g(e,'latency_p99_ms'),'7.2f')} "
          f"{fmt(g(e,'cpu_us_per_op'),'9.1f')} | {fmt(g(t,'requests_per_s'),'10.0f')} "
          f"{fmt(g(t,'latency_p50_ms'),'7.2f')} {fmt(g(t,'latency_p99_ms'),'7.2f')} "
          f"{fmt(g(t,'cpu_us_per_op'),'9.1f')} | {fmt(ratio('requests_per_s'),'7.2f')} "
          f"{fmt(ratio('cpu_us_per_op'),'6.2f')}")
    out.append({"members": k[0], "load": k[1], "clients": k[2], "etcd": e, "trinity": t,
                "trinity_over_etcd_requests_per_s": ratio("requests_per_s"),
                "trinity_over_etcd_cpu_per_op": ratio("cpu_us_per_op")})
errors = sum(r["report"]["errors"] for r in rows)
json.dump({"runs": out, "raw": rows}, open(sys.argv[2], "w"), indent=1)
print(f"\nx = trinity / etcd. Request errors in all runs: {errors}. JSON: {sys.argv[2]}")
PY
