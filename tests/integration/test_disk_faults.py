"""Disk faults through Trinity's io seam (Trinity only; etcd has no such seam).

Contract with the server: when TRI_TESTING_FAULT_FILE=<path> is set, the
server polls that file; "fsync=eio" makes every fdatasync fail with EIO,
"write=enospc" makes every write fail with ENOSPC, an empty file means no
faults. Expectations:
- fsync=eio: the member stops (the process exits with a non-zero status) and
  logs a line naming the failed sync and EIO; acknowledged writes are never
  lost, and after the fault is cleared the member restarts and catches up.
- write=enospc: writes are refused with an error naming the lack of space;
  reads go on; after the fault is cleared and the member restarted, writes
  succeed and earlier data is intact.
"""

import re

import pytest

from faultproxy import wait_until

pytestmark = pytest.mark.tri_only

FAULT_ENV = "TRI_TESTING_FAULT_FILE"
POLL_TIMEOUT_S = 10
FSYNC_FAILURE_LOG = re.compile(r"(?i)(fsync|fdatasync|sync)[^\n]*(eio|input/output error)|"
                               r"(eio|input/output error)[^\n]*(fsync|fdatasync|sync)")
NO_SPACE_ERROR = re.compile(r"(?i)no space|enospc|resource.?exhausted")


def start_with_fault_files(make_cluster, tmp_path, size):
    paths = {}
    cluster = make_cluster(size, start=False)
    names = ["m%d" % (i + 1) for i in range(size)]
    for name in names:
        paths[name] = tmp_path / ("%s.faults" % name)
        paths[name].write_text("")
    # Each member gets its own fault file through its own environment.
    for name in names:
        member = cluster.new_member(name)
        member.env = {FAULT_ENV: str(paths[name])}
    initial = cluster.initial_cluster_string(names)
    for name in names:
        cluster[name].initial_cluster = initial
        cluster[name].start(wait=False)
    for name in names:
        cluster[name].wait_healthy()
    return cluster, paths


def test_fsync_eio_stops_the_member_and_restart_loses_no_acknowledged_write(
        make_cluster, tmp_path):
    cluster, faults = start_with_fault_files(make_cluster, tmp_path, 3)
    leader = cluster[cluster.leader()]
    acked = []
    for i in range(10):
        cluster.etcdctl("put", "eio/%d" % i, "v%d" % i, endpoints=[leader])
        acked.append(i)
    faults[leader.name].write_text("fsync=eio")

    def leader_stopped():
        if not leader.running():
            return True
        i = len(acked) + 100
        result = cluster.etcdctl("put", "eio/%d" % i, "v%d" % i, endpoints=[leader],
                                 check=False, timeout_s=1)
        if result.returncode == 0:
            acked.append(i)
        return not leader.running()

    wait_until(leader_stopped, POLL_TIMEOUT_S, message="the member with failing fsync to stop")
    code = leader.wait_exit(timeout_s=5)
    assert code != 0, "a member that cannot fsync exited with status 0"
    assert FSYNC_FAILURE_LOG.search(leader.log_text()), "no log line names the failed fsync"

    rest = cluster.running_members()
    cluster.leader(among=rest, not_in=(leader.name,))
    for i in acked:
        out = cluster.etcdctl("get", "eio/%d" % i, "--print-value-only", endpoints=rest)
        assert out.stdout.strip() == "v%d" % i, "acknowledged write eio/%d lost" % i

    faults[leader.name].write_text("")
    leader.start()
    for i in acked:
        out = cluster.etcdctl("get", "eio/%d" % i, "--consistency", "s", "--print-value-only",
                              endpoints=[leader])
        assert out.stdout.strip() == "v%d" % i


def test_enospc_refuses_writes_with_a_clear_error_and_reads_go_on(make_cluster, tmp_path):
    cluster, faults = start_with_fault_files(make_cluster, tmp_path, 1)
    member = cluster["m1"]
    cluster.etcdctl("put", "space/before", "kept")
    faults["m1"].write_text("write=enospc")

    def write_refused():
        result = cluster.etcdctl("put", "space/during", "x" * 1000, check=False, timeout_s=2)
        return result if result.returncode != 0 else None

    refused = wait_until(write_refused, POLL_TIMEOUT_S, message="a write to be refused")
    assert NO_SPACE_ERROR.search(refused.stderr), refused.stderr
    assert member.running(), "ENOSPC must refuse writes, not stop the member"
    out = cluster.etcdctl("get", "space/before", "--print-value-only")
    assert out.stdout.strip() == "kept"

    faults["m1"].write_text("")
    member.restart()
    cluster.etcdctl("put", "space/after", "ok")
    assert cluster.etcdctl("get", "space/before", "--print-value-only").stdout.strip() == "kept"
    assert cluster.etcdctl("get", "space/after", "--print-value-only").stdout.strip() == "ok"
