"""`tri-sim lincheck FILE`: the checker the crash and partition tests use."""

import json

import pytest

from workload import check_linearizable

pytestmark = pytest.mark.no_server


def write(tmp_path, ops):
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(op) + "\n" for op in ops))
    return str(path)


def put(client, key, value, call, ret, outcome="ok"):
    op = {"client": client, "kind": "put", "key": key, "value": value, "outcome": outcome,
          "call_time": call}
    if outcome != "unknown":
        op["return_time"] = ret
    return op


def get(client, key, read_value, call, ret):
    return {"client": client, "kind": "get", "key": key, "read_value": read_value,
            "outcome": "ok", "call_time": call, "return_time": ret}


def test_sequential_history_is_linearizable(tmp_path, tri_sim):
    path = write(tmp_path, [put(1, 0, 5, 0, 10), get(2, 0, 5, 20, 30),
                            {"client": 1, "kind": "cas", "key": 0, "expected": 5, "value": 6,
                             "outcome": "ok", "call_time": 40, "return_time": 50},
                            {"client": 2, "kind": "cas", "key": 0, "expected": 5, "value": 7,
                             "outcome": "cas_failed", "call_time": 60, "return_time": 70},
                            get(1, 0, 6, 80, 90), get(2, 1, 0, 80, 90)])
    code, output = check_linearizable(tri_sim, path)
    assert code == 0, output
    assert "linearizable" in output


def test_stale_read_after_acknowledged_put_is_not_linearizable(tmp_path, tri_sim):
    path = write(tmp_path, [put(1, 3, 5, 0, 10), put(1, 3, 6, 20, 30), get(2, 3, 5, 40, 50)])
    code, output = check_linearizable(tri_sim, path)
    assert code == 1, output
    assert "NOT linearizable" in output and "key 3" in output


def test_timed_out_put_may_have_taken_effect(tmp_path, tri_sim):
    path = write(tmp_path, [put(1, 0, 5, 0, None, outcome="unknown"), get(2, 0, 5, 40, 50),
                            get(2, 0, 5, 60, 70)])
    code, output = check_linearizable(tri_sim, path)
    assert code == 0, output


def test_read_of_a_value_nobody_wrote_is_not_linearizable(tmp_path, tri_sim):
    path = write(tmp_path, [put(1, 0, 5, 0, 10), get(2, 0, 99, 5, 50)])
    code, output = check_linearizable(tri_sim, path)
    assert code == 1, output


@pytest.mark.parametrize("line, message", [
    ("not json", "history.jsonl:1: not valid JSON"),
    ('{"client": 1, "kind": "put", "key": 1, "value": 0, "outcome": "ok", "call_time": 1, '
     '"return_time": 2}', "must not be 0"),
    ('{"client": 1, "kind": "put", "key": 1, "value": 3, "outcome": "ok", "call_time": 5, '
     '"return_time": 2}', "is before call_time"),
    ('{"client": 1, "kind": "delete", "key": 1, "outcome": "ok", "call_time": 1, '
     '"return_time": 2}', "must be put, get or cas"),
    ('{"client": 1, "kind": "get", "key": 1, "outcome": "ok", "call_time": 1, '
     '"return_time": 2}', "missing field 'read_value'"),
])
def test_bad_history_is_refused_with_exit_2_naming_the_line(tmp_path, tri_sim, line, message):
    path = tmp_path / "history.jsonl"
    path.write_text("\n" + line + "\n")
    code, output = check_linearizable(tri_sim, str(path))
    assert code == 2, output
    assert message.replace(":1:", ":2:") in output
