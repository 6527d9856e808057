#!/usr/bin/env bash
# coord_vs_etcd.sh: the coordination benchmarks (`tri bench lock|watch|lease`)
# against a 3-member etcd 3.4 cluster and a 3-member Trinity cluster, fsync on,
# on loopback; one side-by-side table with the ratios against etcd measured in
# the same run and against the issue's etcd reference figures, and a JSON file.
# See bench/README.md.
#
# usage: bench/coord_vs_etcd.sh [BUILD_DIR]      (default build/release)
# env:   TOTAL=small|full   run sizes (small: a smoke run, about a minute)
#        TRI_LOCK_APIS="native"   lock APIs run against Trinity ("native etcd"
#                                 adds the etcd v3lock API served by Trinity)
#        LOCK_TARGET_LEADER=1     lock clients connect to the leader (as
#                                 kv_vs_etcd.sh's puts); 0 spreads them over
#                                 the members
#        OUT_JSON=PATH      results file (default BUILD_DIR/coord_vs_etcd.json)
#        ETCD=etcd TRI=...  binaries
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BENCH_NAME=coord_vs_etcd
BUILD_DIR=${1:-build/release}
TRI=${TRI:-$BUILD_DIR/src/cli/tri}
ETCD=${ETCD:-etcd}
OUT_JSON=${OUT_JSON:-$BUILD_DIR/coord_vs_etcd.json}
read -r -a TRI_LOCK_APIS <<<"${TRI_LOCK_APIS:-native}"
LOCK_FLAGS=()
case "${LOCK_TARGET_LEADER:-1}" in
  1) LOCK_FLAGS=(--target-leader) ;;
  0) ;;
  *) echo "LOCK_TARGET_LEADER must be 0 or 1" >&2; exit 2 ;;
esac
MEMBERS=3
case "${TOTAL:-full}" in
  # cycles: 1 client, 16 clients on one lock, 16 clients on 16 locks
  small) C1=200 C16=200 C16D=1000 WATCH_EVENTS=20 LEASE_DURATION=2s ;;
  full) C1=2000 C16=2000 C16D=10000 WATCH_EVENTS=200 LEASE_DURATION=10s ;;
  *) echo "TOTAL must be small or full" >&2; exit 2 ;;
esac

[[ -x $TRI ]] || { echo "$BENCH_NAME: $TRI not built (cmake --build $BUILD_DIR --target tri)" >&2; exit 2; }
command -v "$ETCD" >/dev/null || { echo "$BENCH_NAME: $ETCD not installed" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
PIDS=()
cleanup() {
  stop_cluster
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# run SYSTEM API ROW tri-bench-args...: one run; its JSON report (or the
# failure) goes to RESULTS. A benchmark that fails (e.g. an API this server
# does not serve) is recorded and the script goes on.
run() {
  local system=$1 api=$2 row=$3 report rc=0
  shift 3
  report=$("$TRI" bench "$@" --endpoints "$ENDPOINTS" --json 2>"$WORK/stderr") || rc=$?
  [[ -n $report ]] || report=null
  python3 - "$system" "$api" "$row" "$rc" "$report" "$WORK/stderr" >>"$RESULTS" <<'PY'
import json, sys
system, api, row, rc, report, err = sys.argv[1:7]
print(json.dumps({"system": system, "api": api, "row": row, "rc": int(rc),
                  "report": json.loads(report), "stderr": open(err).read().strip()}))
PY
  printf '  %-8s %-6s %-22s rc=%d\n' "$system" "$api" "$row" "$rc"
}

run_lock_rows() {
  local system=$1 api=$2
  run "$system" "$api" lock-1 lock --api "$api" "${LOCK_FLAGS[@]}" --clients 1 --cycles "$C1"
  run "$system" "$api" lock-16-one lock --api "$api" "${LOCK_FLAGS[@]}" --clients 16 --conns 16 \
    --locks 1 --cycles "$C16"
  run "$system" "$api" lock-16-distinct lock --api "$api" "${LOCK_FLAGS[@]}" --clients 16 \
    --conns 16 --locks 16 --cycles "$C16D"
}

run_other_rows() {
  local system=$1
  run "$system" etcd watch-1000 watch --watchers 1000 --streams 10 --conns 10 \
    --events "$WATCH_EVENTS"
  run "$system" etcd lease-16 lease --clients 16 --conns 16 --duration "$LEASE_DURATION"
}

echo "$BENCH_NAME: $MEMBERS members each, TOTAL=${TOTAL:-full}, lock flags: ${LOCK_FLAGS[*]:-none}; work dir $WORK"
echo "== etcd"
start_cluster etcd $MEMBERS
run_lock_rows etcd etcd
run_other_rows etcd
stop_cluster
if tri_has_server; then
  echo "== trinity"
  start_cluster trinity $MEMBERS
  for api in "${TRI_LOCK_APIS[@]}"; do run_lock_rows trinity "$api"; done
  run_other_rows trinity
  stop_cluster
else
  echo "== trinity: skipped (\`$TRI server --help\` does not work: no server in this build)"
fi

python3 - "$RESULTS" "$OUT_JSON" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
# The issue's etcd 3.4 reference figures and Trinity's goals.
REF = {"lock-1": 416.0, "lock-16-one": 158.0, "lock-16-distinct": 1217.0}
REF_HANDOVER_MS = 6.3
GOAL_X = 3.0
GOAL_HANDOVER_MS = 1.0

def ok(r):
    rep = r["report"]
    return rep is not None and r["rc"] == 0 and rep.get("errors", 0) == 0

def metric(r, row):
    """(value, unit, p50 ms, p99 ms) of a run."""
    rep = r["report"]
    if rep is None:
        return None
    if row.startswith("lock"):
        return rep["cycles_per_s"], "cycles/s", rep["cycle_latency"]["p50_ms"], rep["cycle_latency"]["p99_ms"]
    if row.startswith("watch"):
        return rep["deliveries_per_s"], "events/s", rep["delivery_latency"]["p50_ms"], rep["delivery_latency"]["p99_ms"]
    return rep["keepalives_per_s"], "keepalives/s", rep["keepalive_latency"]["p50_ms"], rep["keepalive_latency"]["p99_ms"]

etcd = {r["row"]: r for r in rows if r["system"] == "etcd"}
tri = {}
for r in rows:
    if r["system"] == "trinity":
        tri.setdefault(r["row"], []).append(r)

def fmt(v, spec):
    width = int(spec.split(".")[0])
    return "-".rjust(width) if v is None else format(v, spec)

head = (f"{'row':<18} {'tri api':<7} | {'etcd':>9} {'p50 ms':>7} {'p99 ms':>7} | {'trinity':>9} "
        f"{'p50 ms':>7} {'p99 ms':>7} | {'x etcd':>6} {'x ref':>6}  goal")
print(head)
print("-" * len(head))
out = []
for row in ["lock-1", "lock-16-one", "lock-16-distinct", "watch-1000", "lease-16"]:
    e = etcd.get(row)
    em = metric(e, row) if e and ok(e) else None
    for t in tri.get(row, [None]):
        tm = metric(t, row) if t and ok(t) else None
        x_etcd = tm[0] / em[0] if tm and em and em[0] else None
        x_ref = tm[0] / REF[row] if tm and row in REF else None
        goal = ""
        if row in REF:
            goal = ">=3x ref: " + ("-" if x_ref is None else ("met" if x_ref >= GOAL_X else "missed"))
        api = t["api"] if t else "-"
        unit = (em or tm or (0, "", 0, 0))[1]
        print(f"{row:<18} {api:<7} | {fmt(em and em[0], '9.0f')} {fmt(em and em[2], '7.2f')} "
              f"{fmt(em and em[3], '7.2f')} | {fmt(tm and tm[0], '9.0f')} {fmt(tm and tm[2], '7.2f')} "
              f"{fmt(tm and tm[3], '7.2f')} | {fmt(x_etcd, '6.2f')} {fmt(x_ref, '6.2f')}  {goal}")
        if t and not ok(t):
            why = t["stderr"] or (t["report"] or {}).get("first_error", "")
            print(f"{'':<18} trinity run failed (rc {t['rc']}): {why[:150]}")
        out.append({"row": row, "unit": unit, "trinity_api": t["api"] if t else None,
                    "etcd": e, "trinity": t, "trinity_over_etcd": x_etcd,
                    "trinity_over_reference": x_ref, "reference": REF.get(row)})
    if e and not ok(e):
        why = e["stderr"] or (e["report"] or {}).get("first_error", "")
        print(f"{'':<18} etcd run failed (rc {e['rc']}): {why[:150]}")

print("\nHand-over (16 clients on one lock: release sent by the holder -> grant at the next waiter), ms:")
print(f"{'system':<8} {'api':<7} {'p50':>7} {'p99':>7} {'mean':>7} {'samples':>8}  goal (p50 <= {GOAL_HANDOVER_MS} ms; etcd reference {REF_HANDOVER_MS} ms)")
for r in [etcd.get("lock-16-one")] + tri.get("lock-16-one", []):
    if not r or not ok(r):
        continue
    h = r["report"]["handover_latency"]
    goal = ("met" if h["p50_ms"] <= GOAL_HANDOVER_MS else "missed") if r["system"] == "trinity" else ""
    print(f"{r['system']:<8} {r['api']:<7} {h['p50_ms']:7.2f} {h['p99_ms']:7.2f} {h['mean_ms']:7.2f} "
          f"{h['count']:>8}  {goal}")
json.dump({"rows": out, "raw": rows, "reference": REF, "reference_handover_ms": REF_HANDOVER_MS},
          open(sys.argv[2], "w"), indent=1)
print(f"\nx etcd = trinity / etcd in this run; x ref = trinity / the issue's etcd figure "
      f"(lock: 416, 158, 1,217 cycles/s). Units: lock cycles/s, watch events delivered/s, "
      f"lease keep-alives/s. JSON: {sys.argv[2]}")
PY
