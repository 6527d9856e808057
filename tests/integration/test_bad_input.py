"""Bad input: oversized requests, garbage on the client and peer ports, a
member with the wrong cluster token, two servers on one data directory."""

import json
import os
import random
import re
import socket
import subprocess
import time

import pytest

from cluster import ELECTION_MS, Member
from faultproxy import wait_until

# What a peer logs when it refuses a member of another cluster. etcd says
# "request cluster ID mismatch"; Trinity must log a line matching this too.
CLUSTER_MISMATCH_LOG = re.compile(r"(?i)cluster[ _-]?(id|token)[^\n]*mismatch|"
                                  r"mismatch[^\n]*cluster[ _-]?(id|token)")


def test_request_over_max_request_bytes_is_refused_and_smaller_ones_served(make_cluster):
    cluster = make_cluster(1, extra_flags=["--max-request-bytes", "2048"])
    big = cluster.etcdctl("put", "big", "x" * 8192, check=False)
    assert big.returncode != 0
    assert "request is too large" in big.stderr
    cluster.etcdctl("put", "small", "x" * 100)
    assert cluster.etcdctl("get", "big", "--print-value-only").stdout == ""
    assert cluster.etcdctl("get", "small", "--print-value-only").stdout.strip() == "x" * 100


def test_txn_over_max_txn_ops_is_refused(make_cluster):
    cluster = make_cluster(1, extra_flags=["--max-txn-ops", "4"])
    ops = "".join("put t%d v\n" % i for i in range(5))
    refused = cluster.etcdctl("txn", input="\n" + ops + "\n\n", check=False)
    assert refused.returncode != 0
    assert "too many operations in txn request" in refused.stderr
    ops = "".join("put t%d v\n" % i for i in range(4))
    assert "SUCCESS" in cluster.etcdctl("txn", input="\n" + ops + "\n\n").stdout


def send_garbage(port, seed):
    rng = random.Random(seed)
    payloads = [
        bytes(rng.randrange(256) for _ in range(4096)),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes(rng.randrange(256) for _ in range(512)),
        b"GET /" + b"A" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /raft HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n" + b"\x00" * 1000,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\xff" * 200,
    ]
    for payload in payloads:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            try:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(1)
                sock.recv(65536)
            except OSError:
                pass  # the server may drop us; it only has to survive


@pytest.mark.parametrize("port_kind", ["client", "peer"])
def test_garbage_bytes_do_not_stop_the_server(make_cluster, port_kind):
    cluster = make_cluster(3)
    cluster.etcdctl("put", "before", "1")
    for member in cluster.members.values():
        port = member.client_port if port_kind == "client" else member.peer_port
        send_garbage(port, seed=member.client_port)
    for member in cluster.members.values():
        assert member.running(), "%s died on garbage input" % member.name
        member.wait_healthy()
    cluster.etcdctl("put", "after", "2")
    for member in cluster.members.values():
        out = cluster.etcdctl("get", "after", "--print-value-only", endpoints=[member])
        assert out.stdout.strip() == "2"


def test_member_with_wrong_cluster_token_cannot_join(make_cluster):
    cluster = make_cluster(3, tokens={"m3": "some-other-cluster"}, wait=False)
    cluster["m1"].wait_healthy()
    cluster["m2"].wait_healthy()
    cluster.etcdctl("put", "k", "v", endpoints=[cluster["m1"], cluster["m2"]])
    odd = cluster["m3"]
    time.sleep(2 * ELECTION_MS / 1000.0)
    assert not odd.healthy(), "a member with another cluster token joined"
    refused = cluster.etcdctl("get", "k", endpoints=[odd], check=False, timeout_s=2)
    assert refused.returncode != 0 or refused.stdout.strip() == ""
    wait_until(lambda: any(CLUSTER_MISMATCH_LOG.search(cluster[n].log_text())
                           for n in ("m1", "m2", "m3")), 10,
               message="a log line about the cluster id/token mismatch")


def second_server_on_same_data_dir(cluster):
    first = cluster["m1"]
    second = Member(cluster, "m1")  # same name, new ports, same data dir
    second.data_dir = first.data_dir
    second.log_path = first.log_path + ".second"
    second.proxy_name = "m1-second"
    second.initial_cluster = "m1=%s" % second.advertised_peer_url
    cluster.proxy.add_destination(second.proxy_name, second.proxy_port, second.peer_port)
    second.start(wait=False)
    return second


def test_second_server_on_a_data_dir_does_not_serve_and_the_first_keeps_serving(make_cluster):
    cluster = make_cluster(1)
    cluster.etcdctl("put", "owner", "first")
    second = second_server_on_same_data_dir(cluster)
    try:
        time.sleep(2 * ELECTION_MS / 1000.0)
        with pytest.raises(Exception):
            second.http_get("/health", timeout_s=1.0)
        cluster.etcdctl("put", "still", "serving", endpoints=[cluster["m1"]])
        assert cluster["m1"].healthy()
    finally:
        second.kill()


@pytest.mark.tri_only
def test_second_server_on_a_data_dir_exits_with_a_clear_error(make_cluster):
    cluster = make_cluster(1)
    second = second_server_on_same_data_dir(cluster)
    try:
        code = second.wait_exit(timeout_s=10)
    except subprocess.TimeoutExpired:
        second.kill()
        pytest.fail("a second server on %s did not exit" % second.data_dir)
    assert code != 0
    log = second.log_text()
    assert re.search(r"(?i)lock", log) and os.path.basename(second.data_dir) in log, log
    cluster.etcdctl("put", "still", "serving")


@pytest.mark.tri_only
def test_member_update_with_a_bad_peer_url_is_refused_and_membership_unchanged(make_cluster):
    cluster = make_cluster(1)
    listed = json.loads(cluster.etcdctl("member", "list", "-w", "json").stdout)["members"]
    member_id = "%x" % listed[0]["ID"]
    refused = cluster.etcdctl("member", "update", member_id, "--peer-urls=https://127.0.0.1:9",
                              check=False)
    assert refused.returncode != 0
    assert "invalid URL" in refused.stderr and "TLS" in refused.stderr, refused.stderr
    after = json.loads(cluster.etcdctl("member", "list", "-w", "json").stdout)["members"]
    assert after[0]["peerURLs"] == listed[0]["peerURLs"]
