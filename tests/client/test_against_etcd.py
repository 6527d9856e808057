"""tri kv / member / endpoint / bench against a real single-member etcd 3.4.

Starts etcd on free loopback ports with its data directory in a temporary
directory, and stops it at the end. Where etcdctl prints the same thing, the
test requires tri's output to be byte-identical to etcdctl's for the same state.
Skips (with a message) when `etcd` or `etcdctl` is not installed.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

TRI = os.environ.get("TRI_BINARY", "build/release/src/cli/tri")

if shutil.which("etcd") is None or shutil.which("etcdctl") is None:
    pytest.skip("etcd/etcdctl not installed (Debian: etcd-server etcd-client)",
                allow_module_level=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def etcd():
    data = tempfile.mkdtemp(prefix="tri-etcd-test-")
    client_port, peer_port = free_port(), free_port()
    client_url = f"http://127.0.0.1:{client_port}"
    peer_url = f"http://127.0.0.1:{peer_port}"
    log = open(os.path.join(data, "etcd.log"), "w")
    proc = subprocess.Popen(
        ["etcd", "--name", "t1", "--data-dir", os.path.join(data, "d"),
         "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
         "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
         "--initial-cluster", f"t1={peer_url}"],
        stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"127.0.0.1:{client_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            ok = subprocess.run(["etcdctl", "--endpoints", endpoint, "--dial-timeout", "500ms",
                                 "endpoint", "health"], capture_output=True).returncode == 0
            if ok:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("etcd did not become healthy; see " + log.name)
            time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def tri(endpoint, *args, stdin=None):
    return subprocess.run([TRI, *args, "--endpoints", endpoint], input=stdin,
                          capture_output=True, text=True)


def etcdctl(endpoint, *args, stdin=None):
    return subprocess.run(["etcdctl", "--endpoints", endpoint, *args], input=stdin,
                          capture_output=True, text=True)


def same(endpoint, tri_args, etcdctl_args=None, stdin=None):
    ours = tri(endpoint, *tri_args, stdin=stdin)
    # `tri kv get ...` is `etcdctl get ...`; member and endpoint are the same words.
    if etcdctl_args is None:
        etcdctl_args = tri_args[1:] if tri_args[0] == "kv" else tri_args
    theirs = etcdctl(endpoint, *etcdctl_args, stdin=stdin)
    assert ours.returncode == 0, ours.stderr
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout == theirs.stdout
    return ours.stdout


def test_put_then_get_prints_what_etcdctl_prints(etcd):
    assert tri(etcd, "kv", "put", "greeting", "hello world").stdout == "OK\n"
    for key, value in [("app/a", "1"), ("app/b", "<2>&"), ("app/c", "three"), ("zz", "")]:
        assert tri(etcd, "kv", "put", key, value).returncode == 0
    for args in [["greeting"], ["app/", "--prefix"], ["app/a", "app/c"], ["app/b", "--from-key"],
                 ["app/", "--prefix", "--keys-only"], ["app/", "--prefix", "--print-value-only"],
                 ["app/", "--prefix", "--limit", "2"],
                 ["app/", "--prefix", "--sort-by", "VALUE", "--order", "DESCEND"],
                 ["greeting", "--rev", "2"], ["app/", "--prefix", "--consistency", "s"],
                 ["nosuch"], ["", "--prefix"]]:
        for fmt in ["simple"] if "--print-value-only" in args else ["simple", "json"]:
            same(etcd, ["kv", "get", *args, "-w", fmt], ["get", *args, "-w", fmt])


def test_put_prev_kv_del_and_txn_print_what_etcdctl_prints(etcd):
    ours = tri(etcd, "kv", "put", "pk", "v1")
    assert ours.stdout == "OK\n"
    ours = tri(etcd, "kv", "put", "pk", "v2", "--prev-kv")
    assert ours.stdout == "OK\npk\nv1\n"
    txn = 'value("pk") = "v2"\n\nput pk v3 --prev-kv\nget pk\n\ndel pk\n\n'
    ours = tri(etcd, "kv", "txn", stdin=txn)
    assert ours.stdout == "SUCCESS\n\nOK\npk\nv2\n\npk\nv3\n", ours.stderr
    ours = tri(etcd, "kv", "txn", "-w", "json", stdin='mod("pk") = "0"\n\n\nget pk\n\n')
    body = json.loads(ours.stdout)
    assert body.get("succeeded") is None and body["responses"][0]["Response"]["ResponseRange"]
    ours = tri(etcd, "kv", "del", "pk", "--prev-kv")
    assert ours.stdout == "1\npk\nv3\n"
    assert tri(etcd, "kv", "del", "pk").stdout == "0\n"


def test_member_list_and_endpoint_status_print_what_etcdctl_prints(etcd):
    for fmt in ["simple", "json", "table"]:
        same(etcd, ["member", "list", "-w", fmt])
    for fmt in ["simple", "json", "table"]:
        same(etcd, ["endpoint", "status", "-w", fmt])


def test_endpoint_health_reports_healthy(etcd):
    ours = tri(etcd, "endpoint", "health")
    assert ours.returncode == 0
    assert ours.stderr.startswith(f"{etcd} is healthy: successfully committed proposal: took = ")
    body = json.loads(tri(etcd, "endpoint", "health", "-w", "json").stdout)
    assert body[0]["endpoint"] == etcd and body[0]["health"] is True


def test_bench_put_runs_every_request_without_errors(etcd):
    ours = tri(etcd, "bench", "put", "--total", "200", "--clients", "4", "--conns", "2",
               "--val-size", "256", "--key-space-size", "50", "--json")
    assert ours.returncode == 0, ours.stderr
    report = json.loads(ours.stdout)
    assert report["requests"] == 200 and report["errors"] == 0
    assert 0 < report["latency_p50_ms"] <= report["latency_p99_ms"] <= report["latency_max_ms"]


def test_exit_codes_are_0_ok_1_request_error_2_usage(etcd):
    assert tri(etcd, "kv", "get", "a", "--prefix", "--from-key").returncode == 2
    assert tri(etcd, "kv", "get", "a", "-w", "table").returncode == 2
    assert tri(etcd, "kv", "get", "a", "--print-value-only", "-w", "json").returncode == 2
    assert tri(etcd, "kv", "get", "a", "--no-such-flag").returncode == 2
    removed = tri(etcd, "member", "remove", "1234")
    assert removed.returncode == 1
    assert removed.stderr == "Error: etcdserver: member not found\n"
    unreachable = subprocess.run([TRI, "kv", "get", "a", "--endpoints", f"127.0.0.1:{free_port()}",
                                  "--dial-timeout", "200ms"], capture_output=True, text=True)
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith("Error: context deadline exceeded")


def test_client_fails_over_from_a_dead_endpoint(etcd):
    dead = f"127.0.0.1:{free_port()}"
    assert tri(etcd, "kv", "put", "fo", "x").returncode == 0
    ours = subprocess.run([TRI, "kv", "get", "fo", "--endpoints", f"{dead},{etcd}"],
                          capture_output=True, text=True)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == "fo\nx\n"
