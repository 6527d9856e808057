"""The saga API over the real binary (docs/sagas-api.md): `tri saga ...`,
HTTP/JSON with Server-Sent Events on --listen-http-urls, and trinity.v1.Sagas
over gRPC from Python; a saga on three members finishes after its leader is
killed with SIGKILL; `tri dev` serves it all and cleans up after itself."""

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

from faultproxy import wait_until

pytestmark = pytest.mark.tri_only

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIAMOND = os.path.join(REPO_ROOT, "examples", "diamond.yaml")
COMPENSATION = os.path.join(REPO_ROOT, "examples", "compensation.yaml")


def tri_saga(cluster, *args, members=None, timeout_s=60, check=None):
    members = members if members is not None else cluster.running_members()
    command = [cluster.server.tri_binary, "saga"] + list(args) + [
        "--endpoints", ",".join(m.endpoint for m in members)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if check is not None:
        assert result.returncode == check, "%s -> %d\n%s%s" % (
            " ".join(command), result.returncode, result.stdout, result.stderr)
    return result


def http(member, method, path, body=None, headers=None, timeout_s=10):
    """(status, parsed JSON body) of one request to the member's HTTP saga API."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (member.http_port, path), data=data, method=method,
        headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read().decode()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode()), error.headers


def read_events(member, saga_id, headers=None, timeout_s=30):
    """The Server-Sent Events of a saga's stream, to its end: [(id, event, data)]."""
    request = urllib.request.Request(
        "http://127.0.0.1:%d/v1/sagas/%s/events" % (member.http_port, saga_id),
        headers=headers or {})
    events = []
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        fields = {}
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line == "":
                if "event" in fields:
                    events.append((fields.get("id"), fields["event"], json.loads(fields["data"])))
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
    return events


def test_cli_defines_starts_waits_and_reports_each_outcome(make_cluster):
    cluster = make_cluster(1)
    defined = tri_saga(cluster, "define", COMPENSATION, "-w", "json", check=0)
    assert json.loads(defined.stdout) == {
        "name": "order-with-refund", "version": 1, "already_existed": False}

    # A failing payment is compensated: exit 3, as `tri run` exits.
    waited = tri_saga(cluster, "start", "order-with-refund", "--input", "order_id=o-9",
                      "--id", "order-9", "--wait", check=3)
    assert "started: saga order-9" in waited.stdout
    assert "step charge: step_failed (attempt 1) code 402" in waited.stdout
    assert "stopped by: failure of step charge (code 402)" in waited.stdout

    saga = json.loads(tri_saga(cluster, "get", "order-9", "-w", "json", check=0).stdout)
    assert saga["state"] == "compensated"
    assert saga["inputs"] == {"order_id": "o-9"}
    assert {s["id"]: s["state"] for s in saga["steps"]}["charge"] == "failed"

    # The same id again returns the saga instead of starting a second one.
    again = tri_saga(cluster, "start", "order-with-refund", "--id", "order-9", "-w", "json",
                     check=0)
    assert json.loads(again.stdout) == {"saga_id": "order-9", "already_existed": True}

    # A file is defined inline; the saga completes: exit 0.
    tri_saga(cluster, "start", DIAMOND, "--wait", check=0)
    listed = json.loads(tri_saga(cluster, "list", "--state", "completed", "-w", "json",
                                 check=0).stdout)
    assert [s["definition_name"] for s in listed["sagas"]] == ["diamond"]

    missing = tri_saga(cluster, "get", "no-such-saga", check=1)
    assert missing.stderr.startswith("Error: ")
    tri_saga(cluster, "start", "order-with-refund", "--input", "broken", check=2)


def test_http_api_starts_a_saga_and_streams_its_events(make_cluster):
    cluster = make_cluster(1)
    member = cluster["m1"]
    with open(DIAMOND) as f:
        document = f.read()
    status, body, _ = http(member, "POST", "/v1/definitions?source=diamond.yaml", document)
    assert (status, body["name"], body["version"]) == (201, "diamond", 1)

    status, body, headers = http(
        member, "POST", "/v1/sagas",
        json.dumps({"definition": "diamond", "id": "d-1"}),
        headers={"Content-Type": "application/json"})
    assert status == 201, body
    assert body == {"saga_id": "d-1", "already_existed": False}
    assert headers["Location"] == "/v1/sagas/d-1"

    events = read_events(member, "d-1")
    assert [int(e[0]) for e in events] == list(range(len(events))), "dense positions from 0"
    assert events[0][1] == "saga_started"
    assert events[-1][1] == "saga_completed"
    assert all(e[2]["position"] == int(e[0]) for e in events)

    # Resuming after the last event seen sends only what followed it.
    resumed = read_events(member, "d-1", headers={"Last-Event-ID": events[-3][0]})
    assert resumed == events[-2:]

    status, saga, _ = http(member, "GET", "/v1/sagas/d-1")
    assert (status, saga["state"], len(saga["steps"])) == (200, "completed", 4)
    status, page, _ = http(member, "GET", "/v1/sagas?state=completed&definition=diamond")
    assert status == 200 and [s["id"] for s in page["sagas"]] == ["d-1"]

    status, body, _ = http(member, "POST", "/v1/sagas/d-1/abort", "")
    assert (status, body["error"]["code"]) == (412, "FAILED_PRECONDITION")
    status, body, _ = http(member, "GET", "/v1/sagas/ghost")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND")
    status, body, _ = http(member, "POST", "/v1/sagas", '{"definition": 7}')
    assert (status, body["error"]["code"]) == (400, "INVALID_ARGUMENT")
    assert "definition: expected a string" in body["error"]["message"]
    status, body, _ = http(member, "POST", "/v1/definitions?source=bad.yaml", "name: [")
    assert status == 400 and "bad.yaml" in body["error"]["message"], body


def _field(number, payload):
    """One length-delimited protobuf field (what a saga id request needs)."""
    key = bytes([(number << 3) | 2])
    size, out = len(payload), b""
    while True:
        byte = size & 0x7F
        size >>= 7
        out += bytes([byte | (0x80 if size else 0)])
        if not size:
            return key + out + payload


def test_grpc_service_answers_from_python(make_cluster):
    grpc = pytest.importorskip("grpc")
    cluster = make_cluster(1)
    tri_saga(cluster, "start", DIAMOND, "--id", "g-1", "--wait", check=0)
    with grpc.insecure_channel(cluster["m1"].endpoint) as channel:
        get = channel.unary_unary("/trinity.v1.Sagas/GetSaga",
                                  request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        reply = get(_field(1, b"g-1"), timeout=10)
        assert b"g-1" in reply and b"completed" in reply
        with pytest.raises(grpc.RpcError) as error:
            get(_field(1, b"ghost"), timeout=10)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as error:
            get(_field(1, b"bad id"), timeout=10)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "saga_id" in error.value.details()


SLOW_SAGA = """
name: slow
steps:
  - id: a
    run: {sleep: {duration: 1500ms}}
  - id: b
    needs: [a]
    run: {sleep: {duration: 1500ms}}
"""


def test_a_saga_finishes_after_its_leader_is_killed(make_cluster, tmp_path):
    cluster = make_cluster(3)
    leader = cluster.leader()
    path = tmp_path / "slow.yaml"
    path.write_text(SLOW_SAGA)
    tri_saga(cluster, "start", str(path), "--id", "s-1", check=0)

    def first_step_started():
        saga = json.loads(tri_saga(cluster, "get", "s-1", "-w", "json", check=0).stdout)
        return saga["steps"][0]["attempts"] >= 1

    wait_until(first_step_started, 10, message="step a of saga s-1 to start")
    cluster[leader].kill()
    survivors = [m for m in cluster.running_members()]
    watched = tri_saga(cluster, "watch", "s-1", members=survivors, timeout_s=60, check=0)
    assert "saga s-1: completed" in watched.stdout
    saga = json.loads(tri_saga(cluster, "get", "s-1", "-w", "json", members=survivors,
                               check=0).stdout)
    assert saga["state"] == "completed"


def test_tri_dev_serves_the_saga_api_and_removes_its_data_on_ctrl_c(server, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path))
    dev = subprocess.Popen([server.tri_binary, "dev"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    try:
        banner = []
        for line in dev.stdout:
            banner.append(line)
            if line.startswith("Stop with Ctrl-C."):
                break
        text = "".join(banner)
        assert "removed on exit" in text, text
        endpoint = re.search(r"gRPC, sagas and etcd API:\s+(\S+)", text).group(1)
        http_url = re.search(r"HTTP/JSON saga API:\s+(\S+)/v1/sagas", text).group(1)
        data_dir = re.search(r"data in (\S+) ", text).group(1)
        assert data_dir.startswith(str(tmp_path)) and os.path.isdir(data_dir)

        started = subprocess.run(
            [server.tri_binary, "saga", "start", DIAMOND, "--id", "dev-1", "--wait",
             "--endpoints", endpoint], capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stdout + started.stderr
        with urllib.request.urlopen(http_url + "/v1/sagas/dev-1", timeout=10) as response:
            assert json.loads(response.read().decode())["state"] == "completed"

        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=30) == 0
        assert "stopped; removed " + data_dir in dev.stdout.read()
        assert not os.path.exists(data_dir)
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
