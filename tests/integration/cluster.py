"""Multi-process clusters on 127.0.0.1 for the integration tests.

A Cluster starts members of the server under test (`etcd` or `tri server`,
which take the same flags) as subprocesses, each in its own process group,
with its own data directory and log file, and peer traffic through a
FaultProxy. It always stops what it started: `close()` runs from the pytest
fixture's finalizer and from an atexit hook.
"""

import atexit
import json
import os
import random
import signal
import socket
import subprocess
import urllib.request

from faultproxy import FaultProxy, wait_until

HEARTBEAT_MS = 50
ELECTION_MS = 500
STARTUP_TIMEOUT_S = 20.0

_live_process_groups = set()


@atexit.register
def _kill_leftovers():
    for pgid in list(_live_process_groups):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass


_handed_out_ports = set()


def free_port():
    """A loopback TCP port that was bindable just now and not handed out before.

    Starts from a random offset so that parallel test processes rarely race.
    """
    for _ in range(1000):
        port = random.randint(20000, 60000)
        if port in _handed_out_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out_ports.add(port)
        return port
    raise RuntimeError("no free loopback port found")


class ServerKind:
    """How to launch the server under test."""

    def __init__(self, kind, tri_binary=None, etcd_binary="etcd"):
        assert kind in ("etcd", "tri"), kind
        self.kind = kind
        self.tri_binary = tri_binary
        self.etcd_binary = etcd_binary

    def command(self, flags):
        if self.kind == "etcd":
            flags = [f for f in flags if not f.startswith("--listen-http-urls=")]
            # etcd 3.4 has pre-vote off by default; Trinity always pre-votes.
            return [self.etcd_binary] + flags + ["--pre-vote=true"]
        return [self.tri_binary, "server"] + flags


class Member:
    def __init__(self, cluster, name):
        self.cluster = cluster
        self.name = name
        self.client_port = free_port()
        self.peer_port = free_port()  # the member listens here
        self.proxy_port = free_port()  # the member is reached here (advertised)
        self.metrics_port = free_port()
        self.http_port = free_port()  # the saga API over HTTP (tri only)
        self.data_dir = os.path.join(cluster.workdir, name + ".data")
        self.log_path = os.path.join(cluster.workdir, name + ".log")
        self.process = None
        self.extra_flags = []
        self.env = {}
        self.initial_cluster = None
        self.initial_cluster_state = "new"
        self.token = cluster.token
        self.proxy_name = name  # the name the FaultProxy knows the process by
        self.starts = 0

    @property
    def client_url(self):
        return "%s://127.0.0.1:%d" % (self.cluster.client_scheme, self.client_port)

    @property
    def endpoint(self):
        return "127.0.0.1:%d" % self.client_port

    @property
    def advertised_peer_url(self):
        return "%s://127.0.0.1:%d" % (self.cluster.peer_scheme, self.proxy_port)

    def flags(self):
        return [
            "--name", self.name,
            "--data-dir", self.data_dir,
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", "%s://127.0.0.1:%d" % (self.cluster.peer_scheme, self.peer_port),
            "--initial-advertise-peer-urls", self.advertised_peer_url,
            "--initial-cluster", self.initial_cluster,
            "--initial-cluster-state", self.initial_cluster_state,
            "--initial-cluster-token", self.token,
            "--heartbeat-interval", str(HEARTBEAT_MS),
            "--election-timeout", str(ELECTION_MS),
            "--listen-metrics-urls", "http://127.0.0.1:%d" % self.metrics_port,
            "--listen-http-urls=%s://127.0.0.1:%d" % (self.cluster.http_scheme, self.http_port),
        ] + self.extra_flags

    def start(self, wait=True):
        assert not self.running(), "%s is already running" % self.name
        command = self.cluster.server.command(self.flags())
        env = dict(os.environ)
        env.update(self.env)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("\n==== start #%d: %s\n" % (self.starts, " ".join(command))).encode())
            log.flush()
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, start_new_session=True,
            )
        _live_process_groups.add(self.process.pid)
        self.cluster.proxy.set_pid(self.proxy_name, self.process.pid)
        if wait:
            self.wait_healthy()
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def _signal_group(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except OSError:
            pass

    def kill(self):
        """kill -9 of the member's process group; waits for it to be gone."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)
        _live_process_groups.discard(self.process.pid)
        self.cluster.proxy.set_pid(self.proxy_name, None)

    def stop(self, timeout_s=10.0):
        """SIGTERM, then SIGKILL after timeout_s."""
        if self.process is None or not self.running():
            return
        self._signal_group(signal.SIGCONT)
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pass
        self.kill()

    def pause(self):
        self._signal_group(signal.SIGSTOP)

    def resume(self):
        self._signal_group(signal.SIGCONT)

    def restart(self, wait=True):
        self.kill()
        return self.start(wait=wait)

    def wait_exit(self, timeout_s):
        """Waits for the process to exit by itself; returns its exit status."""
        code = self.process.wait(timeout=timeout_s)
        _live_process_groups.discard(self.process.pid)
        self.cluster.proxy.set_pid(self.proxy_name, None)
        return code

    def http_get(self, path, timeout_s=2.0):
        # Health and metrics live on --listen-metrics-urls for both servers (etcd also
        # serves them on the client port; Trinity's client port speaks gRPC only).
        url = "http://127.0.0.1:%d" % self.metrics_port
        with urllib.request.urlopen(url + path, timeout=timeout_s) as response:
            return response.status, response.read().decode()

    def healthy(self):
        if not self.running():
            raise AssertionError("%s exited with status %s" % (self.name, self.process.poll()))
        try:
            status, body = self.http_get("/health", timeout_s=1.0)
        except Exception:
            return False
        return status == 200 and json.loads(body).get("health") == "true"

    def wait_healthy(self, timeout_s=STARTUP_TIMEOUT_S):
        wait_until(self.healthy, timeout_s, message="%s to be healthy" % self.name)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as log:
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def status(self, timeout_s=2.0):
        """`etcdctl endpoint status` of this member alone, as a dict."""
        out = self.cluster.etcdctl(
            "endpoint", "status", "-w", "json", endpoints=[self], timeout_s=timeout_s
        ).stdout
        entry = json.loads(out)[0]["Status"]
        return {
            "member_id": int(entry["header"]["member_id"]),
            "leader": int(entry["leader"]),
            "term": int(entry["raftTerm"]),
            "index": int(entry["raftIndex"]),
            "is_learner": bool(entry.get("isLearner", False)),
        }


class EtcdctlError(Exception):
    pass


class Cluster:
    def __init__(self, server, workdir, token="trinity-test"):
        self.server = server
        self.workdir = workdir
        self.token = token
        self.members = {}
        # TLS (test_tls.py): the schemes of the members' client and peer URLs, and
        # flags every etcdctl call gets (--cacert, --cert, --key).
        self.client_scheme = "http"
        self.peer_scheme = "http"
        self.http_scheme = "http"  # the saga HTTP API (tri only)
        self.etcdctl_flags = []
        self.proxy = FaultProxy()
        self.closed = False

    # ---- membership of the harness ---------------------------------------
    def new_member(self, name):
        member = Member(self, name)
        self.members[name] = member
        self.proxy.add_destination(name, member.proxy_port, member.peer_port)
        return member

    def initial_cluster_string(self, names):
        return ",".join(
            "%s=%s" % (n, self.members[n].advertised_peer_url) for n in names
        )

    def start(self, size, extra_flags=(), env=None, tokens=None, wait=True):
        """Starts members m1..m<size>; `tokens` maps a name to its own
        --initial-cluster-token; with wait, waits until all are healthy."""
        names = ["m%d" % (i + 1) for i in range(size)]
        for name in names:
            member = self.new_member(name)
            member.extra_flags = list(extra_flags)
            member.env = dict(env or {})
            member.token = (tokens or {}).get(name, self.token)
        initial = self.initial_cluster_string(names)
        for name in names:
            self.members[name].initial_cluster = initial
            self.members[name].start(wait=False)
        if wait:
            for name in names:
                self.members[name].wait_healthy()
        return self

    def __getitem__(self, name):
        return self.members[name]

    def running_members(self):
        return [m for m in self.members.values() if m.running()]

    # ---- etcdctl ---------------------------------------------------------
    def etcdctl(self, *args, endpoints=None, input=None, check=True, timeout_s=5.0):
        members = endpoints if endpoints is not None else self.running_members()
        command = [
            "etcdctl",
            "--endpoints", ",".join(m.endpoint for m in members),
            "--dial-timeout", "2s",
            "--command-timeout", "%ds" % max(1, int(timeout_s)),
        ] + self.etcdctl_flags + list(args)
        env = dict(os.environ, ETCDCTL_API="3")
        result = subprocess.run(
            command, input=input, capture_output=True, text=True, env=env,
            timeout=timeout_s + 10,
        )
        if check and result.returncode != 0:
            raise EtcdctlError(
                "%s failed (%d): %s" % (" ".join(command), result.returncode, result.stderr.strip())
            )
        return result

    def member_ids(self):
        """name -> member id, from `member list` (members that have started)."""
        out = json.loads(self.etcdctl("member", "list", "-w", "json").stdout)
        return {m.get("name", ""): int(m["ID"]) for m in out["members"]}

    # ---- leadership ------------------------------------------------------
    def leader(self, among=None, timeout_s=10.0, not_in=()):
        """Name of the member that all of `among` (running by default) agree
        leads, waiting until they do (and until it is none of `not_in`)."""

        def agreed():
            members = among if among is not None else self.running_members()
            statuses = {m.name: m.status(timeout_s=1.0) for m in members}
            ids = {s["member_id"]: name for name, s in statuses.items()}
            leaders = {s["leader"] for s in statuses.values()}
            if len(leaders) != 1:
                return None
            leader_id = leaders.pop()
            if leader_id == 0:
                return None
            name = ids.get(leader_id) or self._name_of(leader_id)
            return None if name in not_in else name

        return wait_until(agreed, timeout_s, interval_s=0.1, message="an agreed leader")

    def _name_of(self, member_id):
        for name, mid in self.member_ids().items():
            if mid == member_id:
                return name
        return None

    def add_member(self, name, learner=False, start=True):
        """`member add` (with --learner if asked), then starts the new member
        with --initial-cluster-state existing and the cluster that `member
        add` reported. Returns the Member; its id is `member.member_id`."""
        member = self.new_member(name)
        args = ["member", "add", name, "--peer-urls", member.advertised_peer_url, "-w", "json"]
        if learner:
            args.append("--learner")
        added = json.loads(self.reconfigure(*args).stdout)
        member.member_id = int(added["member"]["ID"])
        names = [m.get("name") or name for m in added["members"]]
        peer_urls = [m["peerURLs"][0] for m in added["members"]]
        member.initial_cluster = ",".join("%s=%s" % (n, u) for n, u in zip(names, peer_urls))
        member.initial_cluster_state = "existing"
        if start:
            member.start(wait=False)
        return member

    def remove_member(self, member_id):
        return self.reconfigure("member", "remove", "%x" % member_id)

    def reconfigure(self, *args, timeout_s=15.0):
        """Runs a `member` command, retrying while the server refuses it as
        unsafe for now (etcd refuses changes until every member has been
        connected for 5 s, "etcdserver: unhealthy cluster")."""
        last = []

        def attempt():
            result = self.etcdctl(*args, check=False)
            last[:] = [result]
            if result.returncode == 0:
                return result
            if "unhealthy cluster" in result.stderr:
                return None
            raise AssertionError("etcdctl %s failed: %s" % (" ".join(args), result.stderr.strip()))

        try:
            return wait_until(attempt, timeout_s, interval_s=0.3, message="etcdctl " + args[1])
        except AssertionError:
            if last and last[0].returncode != 0:
                raise EtcdctlError("etcdctl %s failed: %s" % (" ".join(args), last[0].stderr))
            raise

    def followers(self, leader):
        return [m for m in self.members.values() if m.name != leader and m.running()]

    # ---- teardown --------------------------------------------------------
    def logs(self, tail_bytes=6000):
        parts = []
        for member in self.members.values():
            text = member.log_text()
            parts.append("---- %s (%s) last %d bytes ----\n%s" % (
                member.name, member.log_path, tail_bytes, text[-tail_bytes:]))
        return "\n".join(parts)

    def close(self):
        if self.closed:
            return
        self.closed = True
        for member in self.members.values():
            if member.process is not None:
                member._signal_group(signal.SIGCONT)
                member._signal_group(signal.SIGKILL)
                try:
                    member.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                _live_process_groups.discard(member.process.pid)
        self.proxy.close()
