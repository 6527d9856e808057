"""A concurrent client workload that records a history for `tri-sim lincheck`.

Each client thread runs put / get / compare-and-swap on a few integer keys
("lin/<k>") through python3-etcd3, records every operation with its call and
return times (time.monotonic_ns), and writes values unique per key
(client * 1e6 + sequence), so the checker can tell every write apart. An
operation that raised (time-out, connection lost) is recorded with outcome
"unknown": it may or may not have taken effect. Puts to unique keys
("ack/<client>-<seq>") are interleaved; the ones acknowledged must all be
present at the end. The history format is described in docs/testing.md.
"""

import json
import random
import subprocess
import threading
import time

import etcd3

OP_TIMEOUT_S = 1.0
BACKOFF_S = 0.05


class Workload:
    def __init__(self, cluster, clients=4, keys=3, seed=1):
        self.cluster = cluster
        self.client_count = clients
        self.keys = keys
        self.seed = seed
        self.history = []
        self.acked_keys = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.errors = 0
        # Ports are fixed per member name, so the endpoints survive restarts.
        self._ports = [m.client_port for m in cluster.members.values()]

    def start(self):
        for client_id in range(1, self.client_count + 1):
            thread = threading.Thread(target=self._run, args=(client_id,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=OP_TIMEOUT_S * 5)
            assert not thread.is_alive(), "a workload client did not stop"

    def _record(self, op):
        with self._lock:
            self.history.append(op)

    def _run(self, client_id):
        rng = random.Random(self.seed * 1000 + client_id)
        endpoint = client_id % len(self._ports)
        client = etcd3.client(host="127.0.0.1", port=self._ports[endpoint], timeout=OP_TIMEOUT_S)
        sequence = 0
        last_seen = {}
        while not self._stop.is_set():
            sequence += 1
            key = rng.randrange(self.keys)
            name = "lin/%d" % key
            value = client_id * 1_000_000 + sequence
            choice = rng.random()
            op = {"client": client_id, "key": key}
            call = time.monotonic_ns()
            try:
                if choice < 0.2:
                    ack_key = "ack/%d-%d" % (client_id, sequence)
                    client.put(ack_key, "1")
                    with self._lock:
                        self.acked_keys.append(ack_key)
                    continue
                if choice < 0.55:
                    op.update(kind="put", value=value)
                    client.put(name, str(value))
                    op["outcome"] = "ok"
                elif choice < 0.85:
                    op["kind"] = "get"
                    raw, _ = client.get(name)
                    op["read_value"] = int(raw) if raw is not None else 0
                    op["outcome"] = "ok"
                    last_seen[key] = op["read_value"]
                else:
                    expected = last_seen.get(key, 0)
                    op.update(kind="cas", value=value, expected=expected)
                    compare = (client.transactions.version(name) == 0 if expected == 0
                               else client.transactions.value(name) == str(expected))
                    swapped, _ = client.transaction(
                        compare=[compare], success=[client.transactions.put(name, str(value))],
                        failure=[])
                    op["outcome"] = "ok" if swapped else "cas_failed"
                op["call_time"] = call
                op["return_time"] = time.monotonic_ns()
                self._record(op)
            except Exception:
                with self._lock:
                    self.errors += 1
                if "kind" in op:
                    op["call_time"] = call
                    op["outcome"] = "unknown"
                    self._record(op)
                # Try the next member: this one may be down or partitioned.
                client.close()
                endpoint = (endpoint + 1) % len(self._ports)
                client = etcd3.client(host="127.0.0.1", port=self._ports[endpoint],
                                      timeout=OP_TIMEOUT_S)
                time.sleep(BACKOFF_S)
        client.close()

    def completed(self):
        with self._lock:
            return sum(1 for op in self.history if op["outcome"] != "unknown")

    def write_history(self, path):
        with self._lock, open(path, "w") as out:
            for op in self.history:
                out.write(json.dumps(op) + "\n")
        return path


def check_linearizable(tri_sim, history_path, timeout_s=60):
    """Runs `tri-sim lincheck`; returns (exit status, output)."""
    result = subprocess.run([tri_sim, "lincheck", history_path], capture_output=True, text=True,
                            timeout=timeout_s)
    return result.returncode, result.stdout + result.stderr
