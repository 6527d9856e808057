"""kill -9 of a leader or a follower under concurrent clients; every
acknowledged write survives, and the history is linearizable
(`tri-sim lincheck`)."""

import time

import etcd3

from faultproxy import wait_until
from workload import Workload, check_linearizable

RUN_BEFORE_KILL_S = 1.0
DOWN_S = 1.5
RUN_AFTER_RESTART_S = 1.0


def acknowledged_writes_present(cluster, workload):
    member = cluster.running_members()[0]
    client = etcd3.client(host="127.0.0.1", port=member.client_port, timeout=5)
    try:
        present = {meta.key.decode() for _, meta in client.get_prefix("ack/", keys_only=True)}
    finally:
        client.close()
    missing = [key for key in workload.acked_keys if key not in present]
    return missing


def run_kill_and_restart(cluster, tmp_path, tri_sim, victim_is_leader):
    leader = cluster.leader()
    victim = cluster[leader] if victim_is_leader else cluster.followers(leader)[0]
    workload = Workload(cluster, clients=4, keys=3).start()
    try:
        wait_until(lambda: workload.completed() >= 20, 10, message="20 completed operations")
        time.sleep(RUN_BEFORE_KILL_S)
        victim.kill()
        if victim_is_leader:
            cluster.leader(not_in=(victim.name,))
        time.sleep(DOWN_S)
        before_restart = workload.completed()
        victim.start()
        time.sleep(RUN_AFTER_RESTART_S)
        wait_until(lambda: workload.completed() > before_restart + 20, 10,
                   message="progress after the restart")
    finally:
        workload.stop()
    missing = acknowledged_writes_present(cluster, workload)
    assert not missing, "acknowledged writes lost: %s" % missing[:20]
    assert len(workload.acked_keys) > 0
    path = workload.write_history(str(tmp_path / "history.jsonl"))
    code, output = check_linearizable(tri_sim, path)
    assert code == 0, "history %s is not linearizable (exit %d):\n%s" % (path, code, output)
    print(output.strip(), "(%d client errors)" % workload.errors)
    assert_checker_rejects_a_corrupted_copy(tri_sim, workload, tmp_path)
    return workload


def assert_checker_rejects_a_corrupted_copy(tri_sim, workload, tmp_path):
    """The same recorded history with one read of a value nobody wrote must
    fail: proof that the check above looked at these operations."""
    reads = [op for op in workload.history if op["kind"] == "get" and op["outcome"] == "ok"]
    assert reads, "the workload recorded no successful read"
    corrupted = dict(reads[-1], read_value=987654321)
    workload.history[workload.history.index(reads[-1])] = corrupted
    path = workload.write_history(str(tmp_path / "corrupted.jsonl"))
    code, output = check_linearizable(tri_sim, path)
    assert code == 1, "a corrupted history was not rejected (exit %d):\n%s" % (code, output)


def test_kill_leader_under_writes_keeps_acked_writes_and_linearizability(
        make_cluster, tmp_path, tri_sim):
    cluster = make_cluster(3)
    run_kill_and_restart(cluster, tmp_path, tri_sim, victim_is_leader=True)


def test_kill_follower_under_writes_keeps_acked_writes_and_linearizability(
        make_cluster, tmp_path, tri_sim):
    cluster = make_cluster(3)
    run_kill_and_restart(cluster, tmp_path, tri_sim, victim_is_leader=False)
