"""Network partitions through the FaultProxy, and a stopped (SIGSTOP) leader.

Expectations that hold for etcd with pre-vote and for Trinity: an isolated
leader cannot commit; the majority elects a new leader and serves writes; on
heal the old leader rejoins without disrupting the majority (pre-vote keeps
the term from jumping); a one-way cut towards a follower does not cost the
cluster its leader.
"""

import time

from cluster import ELECTION_MS
from faultproxy import wait_until
from workload import Workload, check_linearizable

ELECTION_S = ELECTION_MS / 1000.0


def put(cluster, member, key, value, timeout_s=3.0):
    return cluster.etcdctl("put", key, value, endpoints=[member], check=False,
                           timeout_s=timeout_s)


def local_value(cluster, member, key):
    """The member's own (serializable) view of key, without asking a leader."""
    out = cluster.etcdctl("get", key, "--consistency", "s", "--print-value-only",
                          endpoints=[member], check=False, timeout_s=2.0)
    return out.stdout.strip() if out.returncode == 0 else None


def terms(members):
    return {m.name: m.status()["term"] for m in members}


def test_isolated_leader_cannot_commit_and_majority_elects_a_new_leader(make_cluster):
    cluster = make_cluster(3)
    old = cluster[cluster.leader()]
    majority = cluster.followers(old.name)
    cluster.proxy.isolate(old.name)

    refused = put(cluster, old, "part/isolated", "must-not-commit", timeout_s=2.0)
    assert refused.returncode != 0, "an isolated leader acknowledged a write"

    new_name = cluster.leader(among=majority, not_in=(old.name,))
    new = cluster[new_name]
    assert put(cluster, new, "part/majority", "committed").returncode == 0
    majority_terms = terms(majority)
    assert local_value(cluster, old, "part/majority") == "", "the isolation leaked"
    # Long enough for the isolated node to time out several elections: without
    # pre-vote its term would climb and, on heal, depose the new leader.
    time.sleep(4 * ELECTION_S)

    cluster.proxy.heal()
    wait_until(lambda: local_value(cluster, old, "part/majority") == "committed", 10,
               message="the old leader to catch up")
    assert cluster.leader() == new_name
    # Pre-vote: rejoining does not force an election on the majority.
    time.sleep(3 * ELECTION_S)
    assert terms(majority) == majority_terms
    assert cluster.leader() == new_name
    assert local_value(cluster, new, "part/isolated") == ""


def test_one_way_cut_from_leader_to_a_follower_keeps_the_leader(make_cluster):
    cluster = make_cluster(3)
    leader = cluster[cluster.leader()]
    cut_off, other = cluster.followers(leader.name)
    before = terms([leader, other])
    cluster.proxy.cut(leader.name, cut_off.name)

    for i in range(5):
        assert put(cluster, leader, "asym/%d" % i, "v%d" % i).returncode == 0
        time.sleep(ELECTION_S / 2)
    # The follower that hears nothing pre-votes, and the others, in contact
    # with the leader, refuse: no term change, no leader change.
    assert terms([leader, other]) == before
    assert cluster.leader(among=[leader, other]) == leader.name
    assert local_value(cluster, other, "asym/4") == "v4"
    assert local_value(cluster, cut_off, "asym/4") == "", "the cut leaked"

    cluster.proxy.heal()
    wait_until(lambda: local_value(cluster, cut_off, "asym/4") == "v4", 10,
               message="the cut-off follower to catch up")
    assert terms([leader, other]) == before


def test_stopped_leader_is_replaced_and_rejoins_after_sigcont(make_cluster):
    cluster = make_cluster(3)
    old = cluster[cluster.leader()]
    majority = cluster.followers(old.name)
    old.pause()
    try:
        new_name = cluster.leader(among=majority, not_in=(old.name,))
        assert put(cluster, cluster[new_name], "stop/during", "x").returncode == 0
        time.sleep(3 * ELECTION_S)
    finally:
        old.resume()
    wait_until(lambda: local_value(cluster, old, "stop/during") == "x", 10,
               message="the resumed leader to catch up")
    assert cluster.leader() == new_name
    assert old.status()["leader"] != old.status()["member_id"]


def test_history_across_leader_isolation_and_heal_is_linearizable(make_cluster, tmp_path,
                                                                  tri_sim):
    cluster = make_cluster(3)
    old = cluster.leader()
    workload = Workload(cluster, clients=4, keys=3, seed=7).start()
    try:
        wait_until(lambda: workload.completed() >= 20, 10, message="20 completed operations")
        cluster.proxy.isolate(old)
        cluster.leader(among=cluster.followers(old), not_in=(old,))
        time.sleep(1.0)
        cluster.proxy.heal()
        done = workload.completed()
        wait_until(lambda: workload.completed() > done + 20, 10, message="progress after heal")
    finally:
        workload.stop()
    path = workload.write_history(str(tmp_path / "history.jsonl"))
    code, output = check_linearizable(tri_sim, path)
    assert code == 0, "history %s is not linearizable (exit %d):\n%s" % (path, code, output)


def test_slow_and_flaky_links_still_make_progress_linearizably(make_cluster, tmp_path, tri_sim):
    cluster = make_cluster(3)
    names = list(cluster.members)
    for source in names:
        for destination in names:
            if source != destination:
                cluster.proxy.delay(source, destination, 0.02)
                cluster.proxy.drop(source, destination, 0.02)
    workload = Workload(cluster, clients=3, keys=2, seed=11).start()
    try:
        wait_until(lambda: workload.completed() >= 60, 20, message="60 completed operations")
    finally:
        workload.stop()
        cluster.proxy.heal()
    path = workload.write_history(str(tmp_path / "history.jsonl"))
    code, output = check_linearizable(tri_sim, path)
    assert code == 0, "history %s is not linearizable (exit %d):\n%s" % (path, code, output)
