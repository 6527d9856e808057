"""etcdctl watch against a real etcd 3.4 and a Trinity member: same outputs.

Runs the same writes on a single-member etcd and a single-member `tri server`
(both on free loopback ports, through tests/integration/cluster.py), then the
same `etcdctl watch` invocations against each, and requires identical output:
history from a revision, --prefix, ranges, --prev-kv, live events (txns
included), JSON responses (member-specific header fields dropped), and a watch
from a compacted revision; `tri watch` printing what `etcdctl watch` prints;
python3-etcd3's watch (skipped without the module); and a 3-member tri cluster
where the member serving a `tri watch` is killed (-9) and later another one is
stopped (SIGTERM): the watch goes on with the next member, no gap, no duplicate;
and periodic automatic compaction on a tri member.
Skips when etcd/etcdctl is not installed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

if shutil.which("etcd") is None or shutil.which("etcdctl") is None:
    pytest.skip("etcd/etcdctl not installed (Debian: etcd-server etcd-client)",
                allow_module_level=True)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from cluster import Cluster, ServerKind  # noqa: E402

TRI = os.environ.get("TRI_BINARY", "build/release/src/cli/tri")
# How long a history watch runs before it is stopped: everything it prints comes
# at once, from history, so this only has to cover start-up.
HISTORY_WATCH_S = 1.5


@pytest.fixture(scope="module")
def servers():
    workdir = tempfile.mkdtemp(prefix="tri-watch-test-")
    clusters = {}
    try:
        for kind in ("etcd", "tri"):
            os.makedirs(os.path.join(workdir, kind))
            clusters[kind] = Cluster(ServerKind(kind, tri_binary=os.path.abspath(TRI)),
                                     os.path.join(workdir, kind)).start(1)
        yield {kind: c["m1"].endpoint for kind, c in clusters.items()}
    finally:
        for c in clusters.values():
            c.close()
        shutil.rmtree(workdir, ignore_errors=True)


def etcdctl(endpoint, *args, stdin=None):
    result = subprocess.run(["etcdctl", "--endpoints", endpoint, *args], input=stdin,
                            capture_output=True, text=True, timeout=20)
    return result


def watch_for(endpoint, seconds, *args):
    """Runs `etcdctl watch ARGS` for `seconds` (or until it exits): (rc, stdout, stderr)."""
    try:
        result = subprocess.run(["etcdctl", "--endpoints", endpoint, "watch", *args],
                                capture_output=True, timeout=seconds)
        return result.returncode, result.stdout.decode(), result.stderr.decode()
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(), (e.stderr or b"").decode()


def on_both(servers, fn):
    return {kind: fn(endpoint) for kind, endpoint in servers.items()}


def same_on_both(servers, fn):
    outputs = on_both(servers, fn)
    assert outputs["tri"] == outputs["etcd"]
    return outputs["tri"]


WRITES = [
    ["put", "a", "1"], ["put", "a", "2"], ["put", "b", "3"], ["del", "a"],
    ["put", "ab", "4"], ["put", "b", "5"], ["put", "a", "6"], ["del", "a", "b"],
    ["put", "ac", "7"],
]
TXN = 'value("b") = "5"\n\nput ad 8\nput ae 9\ndel b\n\nput nothing x\n\n'


def test_history_watches_print_what_etcd_prints(servers):
    def write(endpoint):
        outputs = [etcdctl(endpoint, *w).stdout for w in WRITES]
        outputs.append(etcdctl(endpoint, "txn", stdin=TXN).stdout)
        return outputs
    same_on_both(servers, write)
    for args in [["a", "--rev", "1"], ["a", "--prefix", "--rev", "1"],
                 ["a", "--prefix", "--rev", "2", "--prev-kv"], ["a", "b", "--rev", "3"],
                 ["b", "--rev", "4", "--prev-kv"], ["ad", "--rev", "10"],
                 ["zzz", "--prefix", "--rev", "1"], ["a", "--prefix", "--rev", "100"]]:
        out = same_on_both(servers, lambda e: watch_for(e, HISTORY_WATCH_S, *args)[1])
        if args[-1] == "1" and args[0] == "a":
            assert "PUT\na\n1\n" in out


def normalized_json(text):
    """The JSON responses, without what differs between members (ids, term)."""
    responses = []
    for line in text.splitlines():
        body = json.loads(line)
        for field in ("cluster_id", "member_id", "raft_term"):
            body["Header"].pop(field, None)
        responses.append(body)
    return responses


def test_json_watch_responses_match_etcd_apart_from_member_ids(servers):
    outputs = on_both(servers, lambda e: normalized_json(
        watch_for(e, HISTORY_WATCH_S, "a", "--prefix", "--rev", "2", "--prev-kv", "-w",
                  "json")[1]))
    assert outputs["tri"] == outputs["etcd"]
    assert outputs["tri"], "no events"


def test_live_watch_sees_each_revision_once_in_order(servers):
    procs = {kind: subprocess.Popen(["etcdctl", "--endpoints", e, "watch", "live/", "--prefix",
                                     "--prev-kv"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for kind, e in servers.items()}
    time.sleep(1.0)  # the watches are created
    try:
        def write(endpoint):
            for i in range(5):
                etcdctl(endpoint, "put", "live/k%d" % (i % 2), "v%d" % i)
            etcdctl(endpoint, "txn", stdin='\nput live/t1 x\nput live/t2 y\ndel live/k0\n\n\n')
            etcdctl(endpoint, "del", "live/", "--prefix")
            etcdctl(endpoint, "put", "other", "z")
        on_both(servers, write)
        time.sleep(1.0)
    finally:
        for p in procs.values():
            p.terminate()
    outputs = {kind: p.communicate(timeout=10)[0].decode() for kind, p in procs.items()}
    assert outputs["tri"] == outputs["etcd"]
    assert outputs["tri"].count("PUT\n") == 7 and "other" not in outputs["tri"]


def test_watch_from_a_compacted_revision_is_cancelled_like_etcd(servers):
    def compact(endpoint):
        revision = json.loads(etcdctl(endpoint, "get", "x", "-w", "json").stdout)["header"][
            "revision"]
        etcdctl(endpoint, "put", "c", "1")
        etcdctl(endpoint, "put", "c", "2")
        return etcdctl(endpoint, "compact", str(revision + 2)).stdout, revision
    results = on_both(servers, compact)
    assert results["tri"] == results["etcd"]
    revision = results["tri"][1]
    # Below the compact revision: cancelled with the compact revision.
    out = same_on_both(servers, lambda e: watch_for(e, 10, "c", "--rev", str(revision + 1)))
    assert out[0] != 0 and "compacted" in out[1] + out[2]
    # At the compact revision: what is kept there, then live.
    same_on_both(servers, lambda e: watch_for(e, HISTORY_WATCH_S, "c", "--rev",
                                              str(revision + 2))[1])


def tri_watch(endpoint, seconds, *args):
    try:
        result = subprocess.run([TRI, "watch", *args, "--endpoints", endpoint],
                                capture_output=True, timeout=seconds)
        return result.returncode, result.stdout.decode(), result.stderr.decode()
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(), (e.stderr or b"").decode()


def test_tri_watch_prints_what_etcdctl_watch_prints(servers):
    # Both clients against the real etcd (and against tri: the same again).
    for endpoint in servers.values():
        for args in [["a", "--prefix", "--rev", "2"], ["a", "--prefix", "--rev", "2", "--prev-kv"],
                     ["a", "b", "--rev", "3"], ["b", "--rev", "4", "--prev-kv"]]:
            theirs = watch_for(endpoint, HISTORY_WATCH_S, *args)
            ours = tri_watch(endpoint, HISTORY_WATCH_S, *args)
            assert ours[1] == theirs[1]
            theirs = normalized_json(watch_for(endpoint, HISTORY_WATCH_S, *args, "-w", "json")[1])
            ours = normalized_json(tri_watch(endpoint, HISTORY_WATCH_S, *args, "-w", "json")[1])
            assert ours == theirs
        # A compacted start: same stderr and exit status.
        assert tri_watch(endpoint, 10, "c", "--rev", "2") == watch_for(endpoint, 10, "c", "--rev",
                                                                       "2")


def test_watch_resumes_on_other_members_without_gap_or_duplicate():
    workdir = tempfile.mkdtemp(prefix="tri-watch-failover-")
    cluster = Cluster(ServerKind("tri", tri_binary=os.path.abspath(TRI)), workdir).start(3)
    try:
        members = [cluster["m1"], cluster["m2"], cluster["m3"]]
        endpoints = ",".join(m.endpoint for m in members)
        start = json.loads(cluster.etcdctl("put", "fo/start", "0", "-w", "json").stdout)[
            "header"]["revision"]
        # m1 is the first endpoint: it serves the watch until it is killed.
        watcher = subprocess.Popen([TRI, "watch", "fo/", "--prefix", "--rev", str(start),
                                    "--endpoints", endpoints, "--dial-timeout", "1s"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)

        def put(i, endpoints):
            deadline = time.monotonic() + 30
            while True:
                result = cluster.etcdctl("put", "fo/k%d" % (i % 4), "v%d" % i,
                                         endpoints=endpoints, check=False)
                if result.returncode == 0:
                    return
                assert time.monotonic() < deadline, result.stderr
                time.sleep(0.2)

        for i in range(20):
            put(i, members)
        time.sleep(0.5)
        members[0].kill()  # the watch goes on with m2
        for i in range(20, 40):
            put(i, members[1:])
        members[0].start()
        time.sleep(0.5)
        members[1].stop()  # SIGTERM: m2 ends its streams; the watch goes on with m3
        for i in range(40, 60):
            put(i, [members[0], members[2]])
        time.sleep(3)
        watcher.terminate()
        live, err = watcher.communicate(timeout=10)
        # A surviving member's history of the same range is the reference.
        history = watch_for(members[2].endpoint, 3, "fo/", "--prefix", "--rev", str(start))[1]
        assert history.count("PUT\n") >= 61
        assert live.decode() == history, err.decode()
    finally:
        cluster.close()
        shutil.rmtree(workdir, ignore_errors=True)


def test_python_etcd3_watch_sees_the_same_events_on_both(servers):
    etcd3 = pytest.importorskip("etcd3", reason="python3-etcd3 not installed")

    def events(endpoint):
        host, port = endpoint.split(":")
        client = etcd3.client(host=host, port=int(port))
        start = client.get_response("py/").header.revision + 1
        for i in range(5):
            client.put("py/k%d" % (i % 2), "v%d" % i)
        client.delete("py/k0")
        seen = []
        iterator, cancel = client.watch_prefix("py/", start_revision=start, prev_kv=True)
        for event in iterator:
            seen.append((type(event).__name__, event.key, event.value, event.mod_revision - start,
                         event.prev_value))
            if len(seen) == 6:
                cancel()
        # Not closed: etcd3's watch thread may still be winding down on the channel.
        return seen
    outputs = on_both(servers, events)
    assert outputs["tri"] == outputs["etcd"]
    assert [e[0] for e in outputs["tri"]] == ["PutEvent"] * 5 + ["DeleteEvent"]


def test_periodic_auto_compaction_compacts_on_the_leader():
    workdir = tempfile.mkdtemp(prefix="tri-auto-compaction-")
    cluster = Cluster(ServerKind("tri", tri_binary=os.path.abspath(TRI)), workdir).start(
        1, extra_flags=["--auto-compaction-retention", "2s"])
    try:
        first = json.loads(cluster.etcdctl("put", "ac", "0", "-w", "json").stdout)["header"][
            "revision"]
        deadline = time.monotonic() + 30
        while True:
            cluster.etcdctl("put", "ac", "1")
            result = cluster.etcdctl("get", "ac", "--rev", str(first), check=False)
            if result.returncode != 0:
                break
            assert time.monotonic() < deadline, "no automatic compaction within 30 s"
            time.sleep(0.5)
        assert "required revision has been compacted" in result.stderr
        assert "auto compaction: compacting to revision" in cluster["m1"].log_text()
    finally:
        cluster.close()
        shutil.rmtree(workdir, ignore_errors=True)
