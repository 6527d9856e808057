"""etcd's client-side lock and election recipes (docs/coordination.md,
"Elections"): the same `etcdctl lock` / `etcdctl elect` sequences against a
real 3-member etcd 3.4 (the reference) and a 3-member cluster of the server
under test, outputs compared up to lease ids (the lock and leader keys are
NAME/<lease id in hex>); and python3-etcd3's lock() against the server under
test. The recipes use Txn with create-revision compares, Range with
max_create_revision, sort and limit, Watch from a revision, LeaseGrant and
keep-alives.
"""

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import etcd3
import pytest

# How long a step waits for a line it expects; a line that must NOT come is
# awaited for QUIET_S (a blocked locker must stay blocked that long).
LINE_TIMEOUT_S = 15.0
QUIET_S = 1.5
_LEASE_KEY = re.compile(r"^([^/\n]+)/([0-9a-f]{1,16})$", re.M)


class Etcdctl:
    """A long-running etcdctl (lock/elect): its stdout lines arrive in a queue."""

    def __init__(self, cluster, *args):
        command = ["etcdctl", "--endpoints",
                   ",".join(m.endpoint for m in cluster.running_members())] + list(args)
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, ETCDCTL_API="3"), start_new_session=True)
        self._start_pumps()

    def _start_pumps(self):
        self.lines = queue.Queue()
        self.stderr = []
        self.pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr.append),
                             daemon=True)]
        for pump in self.pumps:
            pump.start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def line(self, timeout_s=LINE_TIMEOUT_S):
        try:
            return self.lines.get(timeout=timeout_s)
        except queue.Empty:
            return None

    def quiet(self):
        """True when no line comes within QUIET_S."""
        return self.line(QUIET_S) is None

    def signal(self, signum):
        os.killpg(self.process.pid, signum)

    def wait(self, timeout_s=LINE_TIMEOUT_S):
        """The exit status, once everything the process wrote has been read."""
        status = self.process.wait(timeout=timeout_s)
        for pump in self.pumps:
            pump.join(timeout_s)
        return status

    def close(self):
        if self.process.poll() is None:
            self.signal(signal.SIGKILL)
            self.process.wait()


def lease_of(key_line):
    match = _LEASE_KEY.match(key_line or "")
    assert match, "not a NAME/<lease> key: %r" % key_line
    return match.group(2)


def normalize_keys(text):
    return _LEASE_KEY.sub(lambda m: "%s/<lease>" % m.group(1), text or "<none>")


def run_scenario(cluster):
    """Runs the lock and election steps; returns what each printed, normalized."""
    out = []
    started = []

    def start(*args):
        process = Etcdctl(cluster, *args)
        started.append(process)
        return process

    try:
        # lock -- cmd: runs the command holding the lock and passes its output.
        result = cluster.etcdctl("lock", "job", "--", "sh", "-c", "echo holding $ETCD_LOCK_KEY")
        out.append(("lock -- cmd", result.returncode, normalize_keys(result.stdout)))

        # Two lockers: the second waits until the first exits (SIGINT unlocks).
        first = start("lock", "--ttl=5", "db")
        out.append(("first locker", normalize_keys(first.line())))
        second = start("lock", "--ttl=5", "db")
        out.append(("second blocked", second.quiet()))
        first.signal(signal.SIGINT)
        out.append(("first exits", first.wait()))
        out.append(("second acquires", normalize_keys(second.line())))

        # A killed holder: the lock passes on when its lease ends (revoked here
        # rather than waiting for the TTL).
        third = start("lock", "--ttl=30", "db")
        out.append(("third blocked", third.quiet()))
        second.signal(signal.SIGKILL)
        second.wait()
        holders = cluster.etcdctl("get", "db/", "--prefix", "--keys-only", "--sort-by=CREATE",
                                  "--order=ASCEND").stdout.split()
        second_key = holders[0]
        out.append(("keys while third waits", len(holders)))
        cluster.etcdctl("lease", "revoke", lease_of(second_key))
        out.append(("third acquires", normalize_keys(third.line())))
        third.signal(signal.SIGINT)
        third.wait()

        # Elections: an observer, a leader, a second candidate that takes over
        # when the first is killed and its lease ends; then a proclaim-free
        # resign (SIGINT) hands over to nobody.
        observer = start("elect", "-l", "chief")
        out.append(("observer before any leader", observer.quiet()))
        one = start("elect", "chief", "one")
        out.append(("one leads", normalize_keys(one.line()), one.line()))
        out.append(("observer sees one", normalize_keys(observer.line()), observer.line()))
        two = start("elect", "chief", "two")
        out.append(("two waits", two.quiet()))
        peek = start("elect", "-l", "chief")
        leader_key = (normalize_keys(peek.line()), peek.line())
        peek.close()
        one.signal(signal.SIGKILL)
        one.wait()
        keys = cluster.etcdctl("get", "chief/", "--prefix", "--keys-only", "--sort-by=CREATE",
                               "--order=ASCEND").stdout.split()
        one_key = keys[0]
        cluster.etcdctl("lease", "revoke", lease_of(one_key))
        out.append(("two leads", normalize_keys(two.line()), two.line()))
        out.append(("observer sees two", normalize_keys(observer.line()), observer.line()))
        two.signal(signal.SIGINT)
        out.append(("two exits", two.wait()))
        out.append(("observer sees nothing more", observer.quiet()))
        out.append(("leader while one led", leader_key))
        late = start("elect", "-l", "chief")
        out.append(("late observer with no leader", late.quiet()))
        three = start("elect", "chief", "three")
        out.append(("three leads", normalize_keys(three.line()), three.line()))
        out.append(("late observer sees three", normalize_keys(late.line()), late.line()))
        out.append(("first observer sees three", normalize_keys(observer.line()),
                    observer.line()))
        three.signal(signal.SIGINT)
        three.wait()
        out.append(("stderr of the candidates", [p.stderr for p in (one, two, three)]))
    finally:
        for process in started:
            process.close()
    return out


@pytest.fixture
def pair(make_cluster, etcd_server):
    return make_cluster(3, kind=etcd_server), make_cluster(3)


def test_etcdctl_lock_and_elect_match_etcd(pair):
    reference, subject = pair
    expected = run_scenario(reference)
    actual = run_scenario(subject)
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual):
        assert got == want, "step %s differs:\n--- etcd: %r\n--- server under test: %r" % (
            want[0], want, got)


def test_python_etcd3_lock_is_held_by_one_client_until_released_or_expired(make_cluster):
    """python3-etcd3's lock(): a put-if-absent txn under a lease. (Its blocking
    retry path fails inside the client with the installed tenacity, whatever the
    server, so a rival only tries while the lock is free.)"""
    cluster = make_cluster(3)
    client = etcd3.client(host="127.0.0.1", port=cluster["m1"].client_port, timeout=5)
    other = etcd3.client(host="127.0.0.1", port=cluster["m2"].client_port, timeout=5)
    try:
        lock = client.lock("py", ttl=10)
        assert lock.acquire(timeout=5)
        assert lock.is_acquired()
        rival = other.lock("py", ttl=10)
        assert not rival.is_acquired()
        assert lock.release()
        assert not lock.is_acquired()
        assert rival.acquire(timeout=5)
        assert rival.is_acquired()
        assert rival.release()
        # A holder that stops refreshing loses the lock when its lease expires.
        short = client.lock("py", ttl=2)
        assert short.acquire(timeout=5)
        deadline = time.time() + 10
        while short.is_acquired() and time.time() < deadline:
            time.sleep(0.2)
        assert not short.is_acquired()
        with other.lock("py", ttl=10) as held:
            assert held.is_acquired()
    finally:
        client.close()
        other.close()


class Tri(Etcdctl):
    """A long-running `tri elect`."""

    def __init__(self, cluster, binary, *args):
        command = [binary, "elect", "--endpoints",
                   ",".join(m.endpoint for m in cluster.running_members())] + list(args)
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self._start_pumps()


@pytest.mark.tri_only
def test_tri_elect_hands_over_with_increasing_tokens_and_interoperates_with_etcdctl(
        make_cluster, server):
    cluster = make_cluster(3)
    binary = server.tri_binary
    started = []

    def tri(*args):
        process = Tri(cluster, binary, *args)
        started.append(process)
        return process

    try:
        observer = tri("-l", "boss")
        etcdctl_observer = Etcdctl(cluster, "elect", "-l", "boss")
        started.append(etcdctl_observer)
        one = tri("boss", "one")
        key_one = one.line()
        assert one.line() == "one"
        token_one = int(one.line().split()[1])
        assert lease_of(key_one)
        assert (observer.line(), observer.line()) == (key_one, "one")
        assert (etcdctl_observer.line(), etcdctl_observer.line()) == (key_one, "one")

        two = tri("boss", "two")
        assert two.quiet()
        one.signal(signal.SIGINT)
        assert one.wait() == 0
        key_two = two.line()
        assert two.line() == "two"
        token_two = int(two.line().split()[1])
        assert token_two > token_one
        assert (observer.line(), observer.line()) == (key_two, "two")
        assert (etcdctl_observer.line(), etcdctl_observer.line()) == (key_two, "two")

        # etcdctl's campaign queues behind tri's leader and follows it.
        three = Etcdctl(cluster, "elect", "boss", "three")
        started.append(three)
        assert three.quiet()
        two.signal(signal.SIGTERM)
        assert two.wait() == 0
        key_three = three.line()
        assert three.line() == "three"
        assert (observer.line(), observer.line()) == (key_three, "three")

        # A waiting campaign that is interrupted leaves no key behind.
        four = tri("boss", "four", "-w", "json")
        assert four.quiet()
        four.signal(signal.SIGINT)
        assert four.wait() == 1
        assert "Error: context canceled" in four.stderr
        keys = cluster.etcdctl("get", "boss/", "--prefix", "--keys-only").stdout.split()
        assert keys == [key_three]
        three.signal(signal.SIGINT)
        three.wait()
        observer.signal(signal.SIGINT)
        assert observer.wait() == 0

        usage = subprocess.run([binary, "elect", "--endpoints", cluster["m1"].endpoint, "x"],
                               capture_output=True, text=True, timeout=10)
        assert usage.returncode == 2
    finally:
        for process in started:
            process.close()


# ---- the v3lock / v3election gRPC services (server side) ------------------

def _proto_modules(tmp_path):
    """Python modules of the etcd protos, generated with protoc (skips without it)."""
    import shutil
    if shutil.which("protoc") is None:
        pytest.skip("protoc not installed")
    root = os.path.join(os.path.dirname(__file__), "..", "..", "src", "api", "proto")
    out = tmp_path / "protos"
    out.mkdir()
    subprocess.run(["protoc", "-I", root, "--python_out", str(out), "mvccpb/kv.proto",
                    "authpb/auth.proto", "etcdserverpb/rpc.proto", "v3lockpb/v3lock.proto",
                    "v3electionpb/v3election.proto"], check=True)
    return str(out)


def probe_services(cluster, modules):
    """Lock/Unlock/Campaign/Proclaim/Leader/Observe/Resign through member m2
    (election_services_probe.py), outcomes with lease ids named."""
    import json
    probe = os.path.join(os.path.dirname(__file__), "election_services_probe.py")
    result = subprocess.run([sys.executable, probe, cluster["m2"].endpoint, modules],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_v3lock_and_v3election_services_match_etcd(pair, tmp_path):
    modules = _proto_modules(tmp_path)
    reference, subject = pair
    expected = probe_services(reference, modules)
    actual = probe_services(subject, modules)
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual):
        assert got == want, "step %s differs:\n--- etcd: %r\n--- server under test: %r" % (
            want[0], want, got)
