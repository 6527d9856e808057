"""The node's parallel apply (`--parallel-apply-threads`, docs/transactions.md,
"In the node") on a real 3-member cluster: concurrent compare-and-swap
increments through python3-etcd3, with a follower killed and restarted
midway. Every acknowledged increment is in the final counters, the members'
HashKV agree at the same revision, and /metrics shows entries applied on the
executor's predictions (so the path under test really ran)."""

import json
import threading

import etcd3
import pytest

from faultproxy import wait_until

pytestmark = pytest.mark.tri_only

PARALLEL_APPLY = ("--parallel-apply-threads", "2", "--parallel-apply-min-batch", "1")
CLIENTS = 8
INCREMENTS_PER_CLIENT = 40
KEYS = ["counter/%d" % i for i in range(4)]


def increment(client, key, marker):
    """One compare-and-swap increment that also writes `marker`, so that after
    an error (a member killed mid-call) the client can tell whether it
    committed; True once it did."""
    if client.get(marker)[0] is not None:
        return True
    value, _ = client.get(key)
    if value is None:
        compare = [client.transactions.version(key) == 0]
        current = 0
    else:
        compare = [client.transactions.value(key) == value]
        current = int(value)
    succeeded, _ = client.transaction(
        compare=compare, success=[client.transactions.put(key, str(current + 1)),
                 client.transactions.put(marker, key)],
        failure=[])
    return succeeded


def run_clients(cluster, done_per_key, errors):
    lock = threading.Lock()

    def client_loop(number):
        member = cluster.running_members()[number % len(cluster.running_members())]
        client = etcd3.client(host="127.0.0.1", port=member.client_port, timeout=5)
        try:
            for i in range(INCREMENTS_PER_CLIENT):
                key = KEYS[(number + i) % len(KEYS)]
                marker = "done/%d/%d" % (number, i)
                while True:
                    try:
                        if increment(client, key, marker):
                            break
                    except Exception as error:  # a member restarting: try again
                        with lock:
                            errors.append(repr(error))
                        client.close()
                        alive = cluster.running_members()
                        member = alive[number % len(alive)]
                        client = etcd3.client(host="127.0.0.1", port=member.client_port,
                                              timeout=5)
                with lock:
                    done_per_key[key] += 1
        finally:
            client.close()

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


def metric(member, name):
    _, body = member.http_get("/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("%s has no metric %s" % (member.name, name))


def test_parallel_apply_keeps_every_increment_and_replicas_equal(make_cluster):
    cluster = make_cluster(3, extra_flags=PARALLEL_APPLY)
    leader = cluster.leader()
    follower = cluster.followers(leader)[0]
    done_per_key = {key: 0 for key in KEYS}
    errors = []
    threads = run_clients(cluster, done_per_key, errors)
    wait_until(lambda: sum(done_per_key.values()) >= 60, 30, message="60 increments")
    follower.kill()
    wait_until(lambda: sum(done_per_key.values()) >= 160, 30,
               message="increments with a member down")
    follower.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a client did not finish"
    assert sum(done_per_key.values()) == CLIENTS * INCREMENTS_PER_CLIENT

    client = etcd3.client(host="127.0.0.1", port=cluster[leader].client_port, timeout=5)
    try:
        for key, done in done_per_key.items():
            value, _ = client.get(key)
            assert value is not None and int(value) == done, (key, value, done, errors[:5])
    finally:
        client.close()

    # Every member at the same revision has the same key-value hash.
    def revisions():
        out = cluster.etcdctl("endpoint", "status", "-w", "json").stdout
        return {int(entry["Status"]["header"]["revision"]) for entry in json.loads(out)}

    wait_until(lambda: len(revisions()) == 1, 30, message="members at one revision")
    revision = revisions().pop()
    out = cluster.etcdctl("endpoint", "hashkv", "--rev", str(revision), "-w", "json").stdout
    hashes = {int(entry["HashKV"]["hash"]) for entry in json.loads(out)}
    assert len(hashes) == 1, "members disagree at revision %d: %s" % (revision, out)

    for member in cluster.running_members():
        assert metric(member, "trinity_parallel_apply_planned_entries_total") > 0, member.name
    print("%d increments, %d client errors" % (sum(done_per_key.values()), len(errors)))
