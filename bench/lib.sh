# shellcheck shell=bash
# Shared helpers of the benchmark scripts (sourced): free loopback ports, the
# CPU time of the processes in PIDS, and starting and stopping etcd and tri
# clusters (start_cluster, stop_cluster, wait_healthy, tri_has_server).

# N distinct free loopback ports.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# CPU seconds (user + system) used so far by every process in PIDS.
cpu_seconds() {
  local ticks=0 pid stat
  for pid in "${PIDS[@]}"; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }  # fields after "(comm) "; utime and stime are fields 14 and 15
    read -r -a f <<<"$stat"
    ticks=$((ticks + f[11] + f[12]))
  done
  python3 -c "print($ticks / $(getconf CLK_TCK))"
}

# The cluster helpers below use WORK (a temporary directory), PIDS (the
# processes started), TRI (the tri binary, also for health checks), ETCD and
# BENCH_NAME (in messages); they set ENDPOINTS.

# Stops every process in PIDS and waits for them.
stop_cluster() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

# Waits up to 60 s for every member of ENDPOINTS-like $1 to answer health.
wait_healthy() {
  local endpoints=$1 deadline=$((SECONDS + 60))
  until "$TRI" endpoint health --endpoints "$endpoints" --dial-timeout 500ms >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "$BENCH_NAME: cluster at $endpoints not healthy after 60 s; logs in $WORK" >&2
      return 1
    fi
    sleep 0.2
  done
}

# start_cluster etcd|trinity N: an N-member cluster on free loopback ports,
# data under WORK, fsync on (both systems' default); the same flags for both
# (tri server's follow etcd's names). Sets ENDPOINTS.
start_cluster() {
  local kind=$1 n=$2 i cluster="" ports
  read -r -a ports <<<"$(free_ports $((2 * n)))"
  for ((i = 0; i < n; i++)); do
    cluster+="${cluster:+,}${kind:0:1}$i=http://127.0.0.1:${ports[2 * i + 1]}"
  done
  ENDPOINTS=""
  for ((i = 0; i < n; i++)); do
    local client=http://127.0.0.1:${ports[2 * i]} peer=http://127.0.0.1:${ports[2 * i + 1]}
    local dir=$WORK/$kind$n-$i
    mkdir -p "$dir"
    local common=(--name "${kind:0:1}$i" --data-dir "$dir/data"
      --listen-client-urls "$client" --advertise-client-urls "$client"
      --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer"
      --initial-cluster "$cluster")
    if [[ $kind == etcd ]]; then
      "$ETCD" "${common[@]}" --initial-cluster-state new \
        --initial-cluster-token "$BENCH_NAME-$n" >"$dir/log" 2>&1 &
    else
      "$TRI" server "${common[@]}" --listen-metrics-urls "" --listen-http-urls "" \
        >"$dir/log" 2>&1 &
    fi
    PIDS+=($!)
    ENDPOINTS+="${ENDPOINTS:+,}127.0.0.1:${ports[2 * i]}"
  done
  wait_healthy "$ENDPOINTS"
}

# Whether this tri build has a server (`tri server --help` works and the
# top-level help lists it: CLI11 answers --help of an unknown subcommand with
# the top-level help).
tri_has_server() {
  "$TRI" server --help >/dev/null 2>&1 && "$TRI" --help 2>/dev/null | grep -Eq '^ +server( |$)'
}
