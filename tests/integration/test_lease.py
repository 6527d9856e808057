"""Leases (docs/coordination.md, "Leases"): the same etcdctl lease sequences
against a real single-member etcd 3.4 (the reference) and the server under
test, outputs compared up to lease ids (and remaining TTLs, which depend on
timing, checked to be within a few seconds of the granted TTL); and
python3-etcd3's lease API against the server under test.
"""

import json
import re
import time

import etcd3
import pytest

from normalize import normalize

# Steps: etcdctl arguments with "{NAME}" for a lease id captured earlier (hex,
# as etcdctl prints and takes it); ("grant", NAME, TTL) grants a lease and
# captures its id (the output is compared too); ("sleep", SECONDS).
SEQUENCE = [
    ("grant", "L", "60"),
    (["lease", "grant", "60", "-w", "json"],),
    (["put", "--lease={L}", "l/a", "1"],),
    (["get", "l/a", "-w", "json"],),
    (["lease", "timetolive", "{L}"],),
    (["lease", "timetolive", "{L}", "--keys"],),
    (["lease", "timetolive", "{L}", "--keys", "-w", "json"],),
    (["put", "--lease={L}", "l/b", "2"],),
    (["put", "l/c", "3"],),
    (["lease", "keep-alive", "--once", "{L}"],),
    (["lease", "keep-alive", "--once", "{L}", "-w", "json"],),
    (["lease", "list"],),
    (["lease", "revoke", "{L}"],),
    (["get", "l/", "--prefix", "-w", "json"],),
    (["lease", "timetolive", "{L}"],),
    (["lease", "timetolive", "{L}", "-w", "json"],),
    (["lease", "revoke", "{L}"],),
    (["put", "--lease={L}", "l/d", "4"],),
    (["lease", "keep-alive", "--once", "{L}"],),
    (["lease", "grant", "9000000001"],),
    (["lease", "grant", "0", "-w", "json"],),
    ("grant", "S", "2"),
    (["put", "--lease={S}", "l/s1", "x"],),
    (["put", "--lease={S}", "l/s2", "y"],),
    ("sleep", 4.5),
    (["get", "l/", "--prefix", "-w", "json"],),
    (["lease", "timetolive", "{S}"],),
    (["put", "l/after", "z", "-w", "json"],),
]


def current_revision(cluster):
    out = cluster.etcdctl("get", "revision-probe", "-w", "json").stdout
    return json.loads(out)["header"]["revision"]


_REMAINING = re.compile(r"granted with TTL\((\d+)s\), remaining\((\d+)s\)")


def _remaining_ok(granted, remaining):
    return granted - 5 <= remaining <= granted


def normalize_lease_text(text, leases, json_output=False):
    """Lease ids (hex and decimal) -> their names; remaining TTLs -> a verdict."""
    for name, lease_id in leases.items():
        text = text.replace("%016x" % lease_id, "<lease %s>" % name)
        decimal = '"<lease %s>"' % name if json_output else "<lease %s>" % name
        text = re.sub(r"\b%d\b" % lease_id, decimal, text)
    text = _REMAINING.sub(
        lambda m: "granted with TTL(%ss), remaining(%s)" % (
            m.group(1), "ok" if _remaining_ok(int(m.group(1)), int(m.group(2))) else m.group(2)),
        text)
    return text


def normalize_ttl_json(stdout):
    """etcdctl's timetolive JSON: ttl -> a verdict against granted-ttl."""
    try:
        value = json.loads(stdout)
    except ValueError:
        return stdout
    if isinstance(value, dict) and "granted-ttl" in value and value.get("ttl", -1) > 0:
        value["ttl"] = "ok" if _remaining_ok(value["granted-ttl"], value["ttl"]) else value["ttl"]
    return json.dumps(value)


def run_sequence(cluster):
    base = current_revision(cluster)
    leases = {}
    results = []
    for step in SEQUENCE:
        if step[0] == "sleep":
            time.sleep(step[1])
            continue
        if step[0] == "grant":
            _, name, ttl = step
            args = ["lease", "grant", ttl]
        else:
            args = [re.sub(r"\{(\w+)\}", lambda m: "%016x" % leases[m.group(1)], a)
                    for a in step[0]]
        result = cluster.etcdctl(*args, check=False)
        if step[0] == "grant":
            assert result.returncode == 0, result.stderr
            leases[name] = int(result.stdout.split()[1], 16)
        output_format = "json" if "json" in args else "simple"
        stdout = normalize_lease_text(result.stdout, leases, output_format == "json")
        if output_format == "json" and "timetolive" in args:
            stdout = normalize_ttl_json(stdout)
        stderr = normalize_lease_text(result.stderr, leases)
        results.append((args, normalize(stdout, stderr, result.returncode, output_format, base)))
    return results


@pytest.fixture
def pair(make_cluster, etcd_server):
    return make_cluster(1, kind=etcd_server), make_cluster(1)


def test_etcdctl_lease_sequence_matches_etcd(pair):
    reference, subject = pair
    expected = run_sequence(reference)
    actual = run_sequence(subject)
    assert len(expected) == len(actual)
    for (args, want), (_, got) in zip(expected, actual):
        assert got == want, (
            "etcdctl %s differs from etcd\n--- etcd:\n%s\n--- server under test:\n%s"
            % (" ".join(args), want, got))


@pytest.fixture
def client(make_cluster):
    cluster = make_cluster(1)
    client = etcd3.client(host="127.0.0.1", port=cluster["m1"].client_port, timeout=5)
    yield client
    client.close()


def test_python_etcd3_lease_grant_put_refresh_info_revoke(client):
    lease = client.lease(30)
    assert lease.granted_ttl == 30
    client.put("pl/a", "1", lease=lease)
    client.put("pl/b", "2", lease=lease)
    assert 25 <= lease.remaining_ttl <= 30
    assert sorted(lease.keys) == [b"pl/a", b"pl/b"]
    refreshed = lease.refresh()
    assert refreshed[0].TTL == 30
    assert client.get("pl/a")[1].lease_id == lease.id
    lease.revoke()
    assert client.get("pl/a") == (None, None)
    assert client.get("pl/b") == (None, None)
    assert client.get_lease_info(lease.id).TTL == -1


def test_python_etcd3_lease_with_chosen_id_and_duplicate(client):
    lease = client.lease(20, lease_id=4242)
    assert lease.id == 4242
    with pytest.raises(etcd3.exceptions.Etcd3Exception):
        client.lease(20, lease_id=4242)
    assert client.get_lease_info(4242).grantedTTL == 20
    client.revoke_lease(4242)
    assert client.get_lease_info(4242).TTL == -1


def test_python_etcd3_short_lease_expires_and_deletes_its_keys(client):
    lease = client.lease(2)
    client.put("pl/short", "x", lease=lease)
    client.put("pl/long", "y")
    deadline = time.time() + 10
    while client.get("pl/short") != (None, None) and time.time() < deadline:
        time.sleep(0.2)
    assert client.get("pl/short") == (None, None)
    assert client.get("pl/long")[0] == b"y"
    assert client.get_lease_info(lease.id).TTL == -1


def test_python_etcd3_keep_alives_keep_a_lease_past_its_ttl(client):
    lease = client.lease(3)
    client.put("pl/kept", "x", lease=lease)
    for _ in range(12):  # 6 s: twice the TTL
        lease.refresh()
        time.sleep(0.5)
    assert client.get("pl/kept")[0] == b"x"
    lease.revoke()


def _remaining(cluster, lease_hex):
    out = cluster.etcdctl("lease", "timetolive", lease_hex, "-w", "json", timeout_s=8.0).stdout
    return json.loads(out)["ttl"]


def test_a_lease_gets_its_full_ttl_from_a_new_leader_then_expires(make_cluster):
    cluster = make_cluster(3)
    out = cluster.etcdctl("lease", "grant", "8").stdout
    lease_hex = out.split()[1]
    cluster.etcdctl("put", "--lease=" + lease_hex, "fo/k", "v")
    leader = cluster.leader()
    time.sleep(4)  # half the TTL gone
    cluster[leader].kill()
    cluster.leader(not_in=(leader,))
    # The new leader's first lease entry gave it 8 s again (minus the time to
    # ask): it did not expire at the old leader's deadline.
    # (Had it kept the old leader's deadline, at most 4 s would be left.)
    assert _remaining(cluster, lease_hex) >= 5
    time.sleep(4)  # past the old leader's deadline
    assert cluster.etcdctl("get", "fo/k", "--print-value-only").stdout == "v\n"
    deadline = time.time() + 15
    while cluster.etcdctl("get", "fo/k", "--print-value-only").stdout and time.time() < deadline:
        time.sleep(0.2)
    assert cluster.etcdctl("get", "fo/k", "--print-value-only").stdout == ""
    assert _remaining(cluster, lease_hex) == -1
