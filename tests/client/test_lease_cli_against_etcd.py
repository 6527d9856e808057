"""tri lease against a real single-member etcd 3.4: for the same state, tri's
output is byte-identical to etcdctl's (remaining TTLs, which tick between the
two calls, are compared to within a second). Skips (with a message) when
`etcd` or `etcdctl` is not installed (the fixture's module skips).
"""
import re
import subprocess
import time

from test_against_etcd import TRI, etcd, etcdctl, tri  # noqa: F401 (etcd is a fixture)

_REMAINING = re.compile(r'remaining\((\d+)s\)|"ttl":(\d+)')


def _ttls(text):
    return [int(a or b) for a, b in _REMAINING.findall(text)]


def same_up_to_remaining(endpoint, args):
    ours = tri(endpoint, "lease", *args)
    theirs = etcdctl(endpoint, "lease", *args)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert _REMAINING.sub("<ttl>", ours.stdout) == _REMAINING.sub("<ttl>", theirs.stdout)
    for a, b in zip(_ttls(ours.stdout), _ttls(theirs.stdout)):
        assert abs(a - b) <= 1
    return ours.stdout


def grant(endpoint, ttl):
    out = etcdctl(endpoint, "lease", "grant", str(ttl)).stdout
    return out.split()[1]


def test_lease_reads_print_what_etcdctl_prints(etcd):  # noqa: F811
    lease = grant(etcd, 1000)
    assert tri(etcd, "kv", "put", "--lease=" + lease, "lc/a", "1").returncode == 0
    for fmt in ["simple", "json"]:
        same_up_to_remaining(etcd, ["timetolive", lease, "-w", fmt])
        same_up_to_remaining(etcd, ["timetolive", lease, "--keys", "-w", fmt])
        same_up_to_remaining(etcd, ["timetolive", "1234abcd", "-w", fmt])
        same_up_to_remaining(etcd, ["list", "-w", fmt])
        same_up_to_remaining(etcd, ["keep-alive", "--once", lease, "-w", fmt])
    assert "attached keys([lc/a])" in tri(etcd, "lease", "timetolive", lease, "--keys").stdout
    # `ttl` is another name for timetolive.
    assert _REMAINING.sub("", tri(etcd, "lease", "ttl", lease).stdout) == _REMAINING.sub(
        "", tri(etcd, "lease", "timetolive", lease).stdout)
    etcdctl(etcd, "lease", "revoke", lease)


def test_grant_and_revoke_print_what_etcdctl_prints(etcd):  # noqa: F811
    out = tri(etcd, "lease", "grant", "300")
    assert out.returncode == 0, out.stderr
    match = re.fullmatch(r"lease ([0-9a-f]{16}) granted with TTL\(300s\)\n", out.stdout)
    assert match, out.stdout
    lease = match.group(1)
    assert "granted with TTL(300s)" in etcdctl(etcd, "lease", "timetolive", lease).stdout
    etcdctl(etcd, "put", "--lease=" + lease, "lc/r", "x")
    revoked = tri(etcd, "lease", "revoke", lease)
    assert revoked.stdout == "lease %s revoked\n" % lease
    assert etcdctl(etcd, "get", "lc/r").stdout == ""
    # Revoking again fails as etcdctl does; tri exits 1 for a request error.
    again = tri(etcd, "lease", "revoke", lease)
    assert again.returncode == 1
    assert again.stderr == "Error: failed to revoke lease (etcdserver: requested lease not found)\n"
    json_grant = tri(etcd, "lease", "grant", "30", "-w", "json").stdout
    assert re.fullmatch(r'\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+,'
                        r'"ID":\d+,"TTL":30,"Error":""\}\n', json_grant), json_grant


def test_keep_alive_once_of_a_missing_lease_fails(etcd):  # noqa: F811
    out = tri(etcd, "lease", "keep-alive", "--once", "77")
    assert out.returncode == 1
    assert out.stderr == "Error: etcdserver: requested lease not found\n"


def test_usage_errors_exit_2(etcd):  # noqa: F811
    bad_id = tri(etcd, "lease", "revoke", "zz")
    assert bad_id.returncode == 2
    assert bad_id.stderr == "Error: bad lease ID arg (zz), expecting ID in Hex\n"
    table = tri(etcd, "lease", "list", "-w", "table")
    assert table.returncode == 2
    assert table.stderr == "Error: table not supported as output format\n"
    assert tri(etcd, "lease", "grant", "abc").returncode == 2


def test_keep_alive_runs_until_the_lease_is_revoked(etcd, tmp_path):  # noqa: F811
    lease = grant(etcd, 3)
    proc = subprocess.Popen(
        [TRI, "lease", "keep-alive", lease, "--endpoints", etcd],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first == "lease %s keepalived with TTL(3)\n" % lease
        time.sleep(1.5)  # past a third of the TTL: at least one more keep-alive
        etcdctl(etcd, "lease", "revoke", lease)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out.endswith("lease %s expired or revoked.\n" % lease)
    assert "keepalived with TTL(3)" in out
