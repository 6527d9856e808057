# Shared helpers of the benchmark scripts (sourced): free loopback ports and
# the CPU time of the processes in PIDS.

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
