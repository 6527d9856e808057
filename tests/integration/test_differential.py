"""Differential tests: the same etcdctl command sequences against a real
single-member etcd (the reference) and a single member of the server under
test; normalized outputs (normalize.py), errors and exit codes must match.
With TRI_SERVER_KIND=etcd the subject is a second etcd, which still proves the
sequences and the normalization deterministic.
"""

import json

import pytest

from normalize import normalize

# Each step: (etcdctl arguments, stdin or None, normalization kind). "{r+N}"
# in an argument is the revision N after the sequence's base revision.
# Versions and values of k/a..k/d are distinct so that sorting has no ties.
PUT_GET = [
    (["put", "k/a", "1"], None, ""),
    (["put", "k/b", "2"], None, ""),
    (["put", "k/b", "22"], None, ""),
    (["put", "k/b", "222"], None, ""),
    (["put", "k/c", "3"], None, ""),
    (["put", "k/c", "33"], None, ""),
    (["put", "k/c", "333"], None, ""),
    (["put", "k/c", "3333"], None, ""),
    (["put", "k/d", "4", "--prev-kv"], None, ""),
    (["put", "k/a", "11", "--prev-kv", "-w", "json"], None, ""),
    (["put", "kz", "outside"], None, ""),
    (["get", "k/a"], None, ""),
    (["get", "k/a", "-w", "json"], None, ""),
    (["get", "k/missing"], None, ""),
    (["get", "k/missing", "-w", "json"], None, ""),
    (["get", "k/", "--prefix"], None, ""),
    (["get", "k/", "--prefix", "-w", "json"], None, ""),
    (["get", "k/b", "k/d"], None, ""),
    (["get", "k/b", "k/d", "-w", "json"], None, ""),
    (["get", "k/b", "--from-key"], None, ""),
    (["get", "k/", "--prefix", "--limit", "2", "-w", "json"], None, ""),
    (["get", "k/", "--prefix", "--limit", "2"], None, ""),
    (["get", "k/", "--prefix", "--sort-by", "KEY", "--order", "DESCEND"], None, ""),
    (["get", "k/", "--prefix", "--sort-by", "VALUE", "--order", "ASCEND"], None, ""),
    (["get", "k/", "--prefix", "--sort-by", "VERSION", "--order", "DESCEND"], None, ""),
    (["get", "k/", "--prefix", "--sort-by", "CREATE", "--order", "DESCEND"], None, ""),
    (["get", "k/", "--prefix", "--sort-by", "MODIFY", "--order", "ASCEND", "-w", "json"], None,
     ""),
    (["get", "k/", "--prefix", "--order", "DESCEND"], None, ""),
    (["get", "k/", "--prefix", "--keys-only"], None, ""),
    (["get", "k/", "--prefix", "--keys-only", "-w", "json"], None, ""),
    (["get", "k/", "--prefix", "--print-value-only"], None, ""),
    # etcdctl 3.4 has no --count-only; the count of a limited range is the
    # same question (RangeResponse.count is the total, `more` is set).
    (["get", "k/", "--prefix", "--keys-only", "--limit", "1", "-w", "json"], None, ""),
    (["get", "k/a", "--rev", "{r+1}"], None, ""),
    (["get", "k/a", "--rev", "{r+1}", "-w", "json"], None, ""),
    (["get", "k/", "--prefix", "--rev", "{r+3}", "-w", "json"], None, ""),
    (["get", "k/a", "--rev", "{r+1000}"], None, ""),
    (["get", "k/a", "--consistency", "s"], None, ""),
    (["put", "", "empty-key"], None, ""),
]

DELETE = [
    (["put", "d/a", "1"], None, ""),
    (["put", "d/b", "2"], None, ""),
    (["put", "d/c", "3"], None, ""),
    (["put", "d/d", "4"], None, ""),
    (["put", "d/e", "5"], None, ""),
    (["put", "e/a", "keep"], None, ""),
    (["del", "d/missing"], None, ""),
    (["del", "d/a", "--prev-kv"], None, ""),
    (["del", "d/b", "-w", "json"], None, ""),
    (["del", "d/c", "d/e", "--prev-kv", "-w", "json"], None, ""),
    (["del", "d/", "--prefix", "--prev-kv"], None, ""),
    (["del", "d/", "--prefix"], None, ""),
    (["get", "", "--from-key", "--keys-only"], None, ""),
    (["get", "d/a", "--rev", "{r+1}", "-w", "json"], None, ""),
]

TXN = [
    (["put", "t/a", "1"], None, ""),
    (["put", "t/b", "x"], None, ""),
    (["txn"], 'value("t/a") = "1"\n\nput t/a 2\nget t/b\n\nput t/a failed\n\n', ""),
    (["txn", "-w", "json"], 'value("t/a") = "1"\n\nput t/a 3\n\nget t/a\ndel t/b\n\n', ""),
    (["txn"], 'version("t/a") = "2"\nmod("t/b") < "{r+3}"\n\nput t/c c\n\nput t/c never\n\n',
     ""),
    (["txn", "-w", "json"], 'create("t/a") = "{r+1}"\n\ndel t/b --prev-kv\n\n\n', ""),
    (["txn"], 'value("t/zzz") = "no"\n\nput t/zzz yes\n\nget t/ --prefix\n\n', ""),
    (["txn", "-w", "json"], '\nput t/e e\nget t/a\n\n\n', ""),
    (["get", "t/", "--prefix", "-w", "json"], None, ""),
]

CLUSTER_INFO = [
    (["member", "list"], None, ""),
    (["member", "list", "-w", "json"], None, ""),
    (["endpoint", "status"], None, "endpoint_status_simple"),
    (["endpoint", "status", "-w", "json"], None, ""),
    (["endpoint", "health"], None, "health"),
]

COMPACTION = [
    (["put", "c/a", "1"], None, ""),
    (["put", "c/a", "2"], None, ""),
    (["put", "c/a", "3"], None, ""),
    (["compaction", "{r+2}"], None, ""),
    (["get", "c/a", "--rev", "{r+1}"], None, ""),
    (["get", "c/a", "--rev", "{r+1}", "-w", "json"], None, ""),
    (["get", "c/a", "--rev", "{r+2}", "-w", "json"], None, ""),
    (["get", "c/a", "--rev", "{r+3}"], None, ""),
    (["compaction", "{r+2}"], None, ""),
    (["compaction", "{r+1}"], None, ""),
    (["compaction", "{r+1000}"], None, ""),
    (["txn"], 'mod("c/a") = "{r+3}"\n\nput c/a 4\n\n\n', ""),
    (["get", "c/a", "-w", "json"], None, ""),
]

SEQUENCES = {
    "put_get": PUT_GET,
    "delete": DELETE,
    "txn": TXN,
    "cluster_info": CLUSTER_INFO,
    "compaction": COMPACTION,
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory, server, etcd_server):
    """(reference etcd, server under test), one single-member cluster each,
    shared by the sequences of this module (they use disjoint keys)."""
    from cluster import Cluster

    clusters = []
    try:
        for label, kind in (("reference", etcd_server), ("subject", server)):
            cluster = Cluster(kind, str(tmp_path_factory.mktemp(label)))
            clusters.append(cluster)
            cluster.start(1)
        yield clusters[0], clusters[1]
    finally:
        for cluster in clusters:
            cluster.close()


def current_revision(cluster):
    out = cluster.etcdctl("get", "revision-probe", "-w", "json").stdout
    return json.loads(out)["header"]["revision"]


def run_sequence(cluster, steps):
    base = current_revision(cluster)
    results = []
    for args, stdin, kind in steps:
        expanded = [expand(a, base) for a in args]
        stdin = expand(stdin, base) if stdin is not None else None
        result = cluster.etcdctl(*expanded, input=stdin, check=False)
        output_format = "json" if "json" in expanded else "simple"
        if kind == "health":
            # The line carries the time the check took; keep the verdict.
            results.append((expanded, {"exit": result.returncode,
                                       "healthy": "is healthy" in result.stdout + result.stderr}))
            continue
        results.append((expanded, normalize(result.stdout, result.stderr, result.returncode,
                                            output_format, base, kind)))
    return results


def expand(text, base):
    if "{r+" not in text:
        return text
    start = text.index("{r+")
    end = text.index("}", start)
    return expand(text[:start] + str(base + int(text[start + 3:end])) + text[end + 1:], base)


@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_etcdctl_sequence_matches_etcd(pair, name):
    reference, subject = pair
    expected = run_sequence(reference, SEQUENCES[name])
    actual = run_sequence(subject, SEQUENCES[name])
    for (args, want), (_, got) in zip(expected, actual):
        assert got == want, (
            "etcdctl %s differs from etcd\n--- etcd:\n%s\n--- server under test:\n%s\n%s"
            % (" ".join(args), want, got, subject.logs(3000)))
