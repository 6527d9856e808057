"""Native locks and barriers through the `tri lock` and `tri barrier` CLI on a
3-member cluster (docs/coordination.md, "Locks", "Barriers"), and the
zombie-holder scenario with real processes: a holder stopped past its lease's
TTL loses the lock to the next holder, and its late write through the fence is
refused by the cluster (etcdctl txn compares the fence key with its token).
"""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from test_tls import certs, client_flags, tls_cluster  # noqa: F401 (certs: a fixture)

pytestmark = pytest.mark.tri_only


def tri(cluster, *args, timeout_s=60, check=None, input=None, command_args=()):
    """Runs tri ARGS --endpoints ... [-- COMMAND_ARGS]."""
    command = [cluster.server.tri_binary] + list(args) + [
        "--endpoints", ",".join(m.endpoint for m in cluster.running_members())]
    if command_args:
        command += ["--"] + list(command_args)
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                            input=input)
    if check is not None:
        assert result.returncode == check, "%s -> %d\n%s%s" % (
            " ".join(command), result.returncode, result.stdout, result.stderr)
    return result


def hold(cluster, name, owner, *extra, members=None):
    """Starts `tri lock acquire` holding `name` (through `members`, default all);
    answers (process, fields printed)."""
    members = members if members is not None else cluster.running_members()
    endpoints = ",".join(m.endpoint for m in members)
    process = subprocess.Popen(
        [cluster.server.tri_binary, "lock", "acquire", name, "--owner", owner,
         "--endpoints", endpoints] + list(extra),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    fields = {}
    while "lease" not in fields:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise AssertionError("tri lock acquire exited %s: %s" % (
                process.returncode, process.stderr.read()))
        key, _, value = line.strip().partition(": ")
        fields[key] = value
    return process, fields


def fenced_put_script(endpoints, key, value):
    """A shell line: a Txn putting key=value only while the fence key holds
    $TRI_LOCK_TOKEN (the holder's token); prints SUCCESS or FAILURE."""
    return ("printf 'val(\"%%s\") = \"%%s\"\\n\\nput %s %s\\n\\n\\n' "
            "\"$TRI_LOCK_FENCE_KEY\" \"$TRI_LOCK_TOKEN\" | "
            "ETCDCTL_API=3 etcdctl --endpoints=%s txn" % (key, value, endpoints))


def fenced_put(cluster, fence_key, token, key, value):
    stdin = 'val("%s") = "%s"\n\nput %s %s\n\n\n' % (fence_key, token, key, value)
    return cluster.etcdctl("txn", input=stdin).stdout.strip().splitlines()[0]


def locks(cluster, prefix=""):
    out = tri(cluster, "lock", "list", prefix, "-w", "json", check=0).stdout
    return json.loads(out).get("locks", [])


def stop(process, timeout_s=20):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout_s)
    finally:
        if process.poll() is None:
            process.kill()


def test_lock_cli_holds_lists_refuses_a_try_lock_and_releases_on_sigterm(make_cluster):
    cluster = make_cluster(3)
    holder, fields = hold(cluster, "jobs", "alice", "--ttl", "30")
    try:
        assert fields["name"] == "jobs" and fields["owner"] == "alice"
        assert fields["fence_key"] == "__trinity/locks/jobs"
        assert cluster.etcdctl("get", "__trinity/locks/jobs", "--print-value-only").stdout == \
            fields["token"] + "\n"
        [listed] = locks(cluster)
        assert listed["name"] == "jobs" and listed["holder"] == "alice"
        assert str(listed["token"]) == fields["token"]
        tried = tri(cluster, "lock", "acquire", "jobs", "--owner", "bob", "--wait", "0s", check=1)
        assert "not acquired" in tried.stderr
        table = tri(cluster, "lock", "list", "-w", "table", check=0).stdout
        assert "alice" in table and "HOLDER" in table
    finally:
        assert stop(holder) == 0
    assert locks(cluster) == []
    assert cluster.etcdctl("get", "__trinity/locks/jobs", "--print-value-only").stdout == ""


def test_lock_cli_runs_a_command_with_the_lock_in_its_environment(make_cluster):
    cluster = make_cluster(3)
    result = tri(cluster, "lock", "acquire", "deploy", "--owner", "ci", check=7, command_args=[
        "sh", "-c", 'echo "held $TRI_LOCK_NAME $TRI_LOCK_TOKEN $TRI_LOCK_FENCE_KEY"; exit 7'])
    match = re.search(r"held deploy (\d+) __trinity/locks/deploy", result.stdout)
    assert match, result.stdout
    assert "token: %s" % match.group(1) in result.stdout
    assert locks(cluster) == []  # released after the command


def test_a_waiter_on_a_follower_gets_the_lock_released_through_the_leader(make_cluster):
    cluster = make_cluster(3)
    leader = cluster[cluster.leader()]
    follower = next(m for m in cluster.running_members() if m is not leader)
    first, a = hold(cluster, "q", "A", "--ttl", "30", members=[leader])
    second = None
    try:
        second = subprocess.Popen(
            [cluster.server.tri_binary, "lock", "acquire", "q", "--owner", "B", "--ttl", "30",
             "--wait", "60s", "--endpoints", follower.endpoint],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 20
        while time.time() < deadline and not any(
                w["owner"] == "B" for lock in locks(cluster, "q") for w in lock.get("waiters", [])):
            time.sleep(0.05)
        [queued] = locks(cluster, "q")
        assert [w["owner"] for w in queued["waiters"]] == ["B"]
        assert stop(first) == 0  # A releases through the leader
        fields = {}
        while "lease" not in fields:
            line = second.stdout.readline()
            assert line, second.stderr.read()
            key, _, value = line.strip().partition(": ")
            fields[key] = value
        assert fields["owner"] == "B"
        assert int(fields["token"]) > int(a["token"])
    finally:
        if first.poll() is None:
            stop(first)
        if second is not None:
            assert stop(second) == 0


def test_a_wait_survives_a_leader_change_and_the_expiry_hands_the_lock_over(make_cluster):
    cluster = make_cluster(3)
    leader = cluster[cluster.leader()]
    follower = next(m for m in cluster.running_members() if m is not leader)
    holder, a = hold(cluster, "f", "A", "--ttl", "3", members=[follower])
    waiter = subprocess.Popen(
        [cluster.server.tri_binary, "lock", "acquire", "f", "--owner", "B", "--ttl", "30",
         "--wait", "60s", "--endpoints", follower.endpoint],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not any(
                w["owner"] == "B" for lock in locks(cluster, "f") for w in lock.get("waiters", [])):
            time.sleep(0.05)
        # A stops keeping its lease alive, and the leader dies: the next
        # leader expires A's lease (after giving it its full TTL again).
        os.kill(holder.pid, signal.SIGSTOP)
        leader.kill()
        cluster.leader(not_in=(leader.name,))
        fields = {}
        while "lease" not in fields:
            line = waiter.stdout.readline()
            assert line, waiter.stderr.read()
            key, _, value = line.strip().partition(": ")
            fields[key] = value
        assert int(fields["token"]) > int(a["token"])
    finally:
        os.kill(holder.pid, signal.SIGCONT)
        stop(holder)
        assert stop(waiter) == 0


def test_a_release_by_someone_who_does_not_hold_the_lock_fails(make_cluster):
    cluster = make_cluster(3)
    holder, _ = hold(cluster, "x", "alice", "--ttl", "30")
    try:
        refused = tri(cluster, "lock", "release", "x", "--owner", "mallory", check=1)
        assert "x" in refused.stderr
    finally:
        assert stop(holder) == 0


def test_a_zombie_holder_loses_the_lock_and_its_fenced_write_is_refused(make_cluster, tmp_path):
    cluster = make_cluster(3)
    endpoints = ",".join(m.endpoint for m in cluster.running_members())
    go = tmp_path / "go"
    zombie_out = tmp_path / "zombie-write"
    # A holds the lock with a 2 s lease; its command waits for `go`, then writes
    # data=A through the fence.
    ready = tmp_path / "ready"
    script = "touch %s; while [ ! -e %s ]; do sleep 0.05; done; %s > %s 2>&1" % (
        ready, go, fenced_put_script(endpoints, "data", "A"), zombie_out)
    zombie, a = hold(cluster, "z", "A", "--ttl", "2", "--", "sh", "-c", script)
    b_holder = None
    try:
        # The command runs (A printed its token before starting it).
        deadline = time.time() + 20
        while time.time() < deadline and not ready.exists():
            time.sleep(0.05)
        assert ready.exists()
        # A stops (a long GC pause, a frozen VM): no more keep-alives. Its
        # command is not stopped; it still believes A holds the lock.
        os.kill(zombie.pid, signal.SIGSTOP)
        # B waits in line and gets the lock once A's lease expires.
        b_holder, b = hold(cluster, "z", "B", "--ttl", "30", "--wait", "60s")
        assert int(b["token"]) > int(a["token"])
        assert fenced_put(cluster, b["fence_key"], b["token"], "data", "B") == "SUCCESS"
        # A's command wakes up and writes with A's token: refused.
        go.touch()
        deadline = time.time() + 20
        while time.time() < deadline and "SUCCESS" not in _read(zombie_out) \
                and "FAILURE" not in _read(zombie_out):
            time.sleep(0.05)
        assert _read(zombie_out).splitlines()[0] == "FAILURE", _read(zombie_out)
        # A resumes, finds its lease gone and says the lock was lost.
        os.kill(zombie.pid, signal.SIGCONT)
        assert zombie.wait(timeout=30) == 1
        assert "lost" in zombie.stderr.read()
        assert cluster.etcdctl("get", "data", "--print-value-only").stdout == "B\n"
        [listed] = locks(cluster, "z")
        assert listed["holder"] == "B"
    finally:
        if zombie.poll() is None:
            os.kill(zombie.pid, signal.SIGCONT)
            stop(zombie)
        if b_holder is not None:
            assert stop(b_holder) == 0


def _read(path):
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def _arrive(cluster, name, participant, member=None):
    members = [member] if member is not None else cluster.running_members()
    endpoints = ",".join(m.endpoint for m in members)
    return subprocess.Popen(
        [cluster.server.tri_binary, "barrier", "arrive", name, participant,
         "--endpoints", endpoints],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_barrier_cli_releases_every_participant_once(make_cluster):
    cluster = make_cluster(3)
    created = tri(cluster, "barrier", "create", "start", "--names", "x,y,z",
                  "--threshold", "2", check=0)
    assert "collecting" in created.stdout
    # Each through another member: the streams follow the replicated table.
    x = _arrive(cluster, "start", "x", member=cluster["m2"])
    y = _arrive(cluster, "start", "y", member=cluster["m3"])
    for process in (x, y):
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("start released arrived=2/2 of 3")
    status = json.loads(tri(cluster, "barrier", "status", "start", "-w", "json", check=0).stdout)
    assert status["state"] == 3  # RELEASED (etcdctl's JSON: enums as numbers)
    assert status["absent"] == ["z"]


def test_barrier_cli_timed_out_exits_3_with_the_absent_list(make_cluster):
    cluster = make_cluster(3)
    tri(cluster, "barrier", "create", "timed", "--names", "a,b,c", "--timeout", "1s", check=0)
    result = tri(cluster, "barrier", "arrive", "timed", "a", check=3)
    assert "absent: b,c" in result.stderr
    assert "timed_out" in result.stdout


def test_a_new_leaders_timer_times_out_a_barrier_after_the_old_leader_dies(make_cluster):
    cluster = make_cluster(3)
    leader = cluster[cluster.leader()]
    follower = next(m for m in cluster.running_members() if m is not leader)
    tri(cluster, "barrier", "create", "ft", "--names", "a,b", "--timeout", "3s", check=0)
    arrival = _arrive(cluster, "ft", "a", member=follower)
    deadline = time.time() + 20
    while time.time() < deadline:
        status = json.loads(tri(cluster, "barrier", "status", "ft", "-w", "json", check=0).stdout)
        if status.get("arrivals"):
            break
        time.sleep(0.05)
    leader.kill()
    out, err = arrival.communicate(timeout=60)
    assert arrival.returncode == 3, err
    assert "absent: b" in err
    assert out.strip().splitlines()[-1].startswith("ft timed_out")


def test_barrier_cli_cascades_a_cancel_and_removes(make_cluster):
    cluster = make_cluster(3)
    tri(cluster, "barrier", "create", "s1", "--participants", "1", check=0)
    second = tri(cluster, "barrier", "create", "s2", "--participants", "2", "--fraction", "1/2",
                 "--after", "s1", check=0)
    assert "waiting_for_predecessor" in second.stdout
    early = tri(cluster, "barrier", "arrive", "s2", "p", check=1)
    assert "s2" in early.stderr
    tri(cluster, "barrier", "cancel", "s1", check=0)
    listed = json.loads(tri(cluster, "barrier", "list", "s", "-w", "json", check=0).stdout)
    assert [(b["name"], b["state"]) for b in listed["barriers"]] == [
        ("s1", 5), ("s2", 5)]  # CANCELLED
    removed = tri(cluster, "barrier", "remove", "s1", check=0)
    assert "removed s1" in removed.stdout
    missing = tri(cluster, "barrier", "status", "s1", check=1)
    assert "not found" in missing.stderr


def test_lock_and_barrier_cli_over_tls_with_a_client_certificate(make_cluster, certs):  # noqa: F811
    cluster = tls_cluster(make_cluster, certs, 1)
    endpoint = "https://" + cluster["m1"].endpoint

    def run(*args, command_args=()):
        command = [cluster.server.tri_binary] + list(args) + [
            "--endpoints", endpoint] + client_flags(certs)
        if command_args:
            command += ["--"] + list(command_args)
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    held = run("lock", "acquire", "tls-lock", "--owner", "t", command_args=["true"])
    assert held.returncode == 0, held.stderr
    assert "fence_key: __trinity/locks/tls-lock" in held.stdout
    created = run("barrier", "create", "tls-barrier", "--participants", "1")
    assert created.returncode == 0, created.stderr
    arrived = run("barrier", "arrive", "tls-barrier", "p")
    assert arrived.returncode == 0, arrived.stderr
    assert "released" in arrived.stdout
    # Without a client certificate the member refuses the connection.
    refused = subprocess.run(
        [cluster.server.tri_binary, "lock", "list", "--endpoints", endpoint,
         "--cacert", certs("ca.crt")], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
