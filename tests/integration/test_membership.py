"""Membership changes: learner add and promote, leader removal, replacing a
dead member."""

import json
import shutil

from faultproxy import wait_until


def local_value(cluster, member, key):
    out = cluster.etcdctl("get", key, "--consistency", "s", "--print-value-only",
                          endpoints=[member], check=False, timeout_s=2.0)
    return out.stdout.strip() if out.returncode == 0 else None


def member_list(cluster):
    return json.loads(cluster.etcdctl("member", "list", "-w", "json").stdout)["members"]


def test_learner_catches_up_and_is_promoted_to_voter(make_cluster):
    cluster = make_cluster(3)
    for i in range(20):
        cluster.etcdctl("put", "learn/%d" % i, "v%d" % i)
    learner = cluster.add_member("m4", learner=True)
    wait_until(lambda: local_value(cluster, learner, "learn/19") == "v19", 15,
               message="the learner to replicate the data")
    listed = {m.get("name"): m for m in member_list(cluster)}
    assert listed["m4"].get("isLearner") is True
    assert learner.status()["is_learner"] is True

    def promote():
        result = cluster.etcdctl("member", "promote", "%x" % learner.member_id, check=False)
        return result.returncode == 0

    wait_until(promote, 15, interval_s=0.3, message="the learner to be promotable")
    listed = {m.get("name"): m for m in member_list(cluster)}
    assert not listed["m4"].get("isLearner", False)
    wait_until(lambda: not learner.status()["is_learner"], 10, message="m4 to know it votes")
    cluster.etcdctl("put", "learn/after", "promoted", endpoints=[learner])
    assert local_value(cluster, learner, "learn/after") == "promoted"


def test_learner_is_not_counted_for_quorum(make_cluster):
    cluster = make_cluster(1)
    cluster.add_member("m2", learner=True)
    wait_until(lambda: local_value(cluster, cluster["m2"], "absent") == "", 15,
               message="the learner to start")
    # One voter and a learner: the voter alone is a quorum.
    cluster["m2"].kill()
    cluster.etcdctl("put", "solo", "ok", endpoints=[cluster["m1"]])


def test_removing_the_leader_leaves_a_working_cluster(make_cluster):
    cluster = make_cluster(3)
    old = cluster[cluster.leader()]
    old_id = old.status()["member_id"]
    rest = cluster.followers(old.name)
    cluster.remove_member(old_id)
    new_name = cluster.leader(among=rest, not_in=(old.name,))
    cluster.etcdctl("put", "after/remove", "ok", endpoints=rest)
    listed = [m for m in member_list_from(cluster, rest)]
    assert sorted(m["name"] for m in listed) == sorted(m.name for m in rest)
    assert new_name in {m.name for m in rest}
    # The removed member no longer takes writes (etcd exits by itself).
    result = cluster.etcdctl("put", "after/remove-old", "x", endpoints=[old], check=False,
                             timeout_s=2.0)
    assert result.returncode != 0


def member_list_from(cluster, members):
    out = cluster.etcdctl("member", "list", "-w", "json", endpoints=members).stdout
    return json.loads(out)["members"]


def test_dead_member_is_replaced_by_a_new_one(make_cluster):
    cluster = make_cluster(3)
    for i in range(10):
        cluster.etcdctl("put", "repl/%d" % i, "v%d" % i)
    leader = cluster.leader()
    dead = cluster.followers(leader)[0]
    dead_id = dead.status()["member_id"]
    dead.kill()
    shutil.rmtree(dead.data_dir)
    survivors = cluster.running_members()
    cluster.remove_member(dead_id)
    replacement = cluster.add_member("m4")
    replacement.wait_healthy()
    wait_until(lambda: local_value(cluster, replacement, "repl/9") == "v9", 15,
               message="the replacement to replicate the data")
    # A member publishes its name after it starts (as etcd's do), so the list
    # shows it once that entry is applied; etcd's JSON omits an empty name.
    expected = sorted([m.name for m in survivors] + ["m4"])
    wait_until(lambda: sorted(m.get("name", "") for m in member_list_from(cluster, survivors))
               == expected, 15, message="every member's name in the member list")
    # The new member is a voter: with it, losing one more member keeps quorum.
    cluster[leader].kill()
    others = [m for m in cluster.running_members()]
    cluster.leader(among=others, not_in=(leader,))
    cluster.etcdctl("put", "repl/after", "ok", endpoints=others)
    assert local_value(cluster, replacement, "repl/after") == "ok"
