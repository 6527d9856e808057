"""python3-etcd3 (the gRPC client library) against the server under test."""

import etcd3
import pytest


@pytest.fixture
def client(make_cluster):
    cluster = make_cluster(1)
    member = cluster["m1"]
    client = etcd3.client(host="127.0.0.1", port=member.client_port, timeout=5)
    yield client
    client.close()


def test_put_get_delete_round_trip(client):
    assert client.get("lib/absent") == (None, None)
    client.put("lib/a", "alpha")
    value, meta = client.get("lib/a")
    assert value == b"alpha"
    assert meta.key == b"lib/a" and meta.version == 1
    client.put("lib/a", "beta")
    value, meta = client.get("lib/a")
    assert value == b"beta" and meta.version == 2 and meta.mod_revision > meta.create_revision
    assert client.delete("lib/a") is True
    assert client.delete("lib/a") is False
    assert client.get("lib/a") == (None, None)


def test_put_returns_previous_value_when_asked(client):
    client.put("lib/prev", "one")
    response = client.put("lib/prev", "two", prev_kv=True)
    assert response.prev_kv.value == b"one"


def test_prefix_get_and_delete(client):
    for name in ("x", "y", "z"):
        client.put("lib/p/" + name, name.upper())
    client.put("lib/q", "outside")
    got = sorted((meta.key, value) for value, meta in client.get_prefix("lib/p/"))
    assert got == [(b"lib/p/x", b"X"), (b"lib/p/y", b"Y"), (b"lib/p/z", b"Z")]
    deleted = client.delete_prefix("lib/p/")
    assert deleted.deleted == 3
    assert list(client.get_prefix("lib/p/")) == []
    assert client.get("lib/q")[0] == b"outside"


def test_transaction_takes_the_branch_its_compare_selects(client):
    client.put("lib/t", "1")
    ok, responses = client.transaction(
        compare=[client.transactions.value("lib/t") == "1"],
        success=[client.transactions.put("lib/t", "2"), client.transactions.get("lib/t")],
        failure=[client.transactions.put("lib/t", "failed")],
    )
    assert ok is True
    assert responses[1][0][0] == b"2"
    ok, _ = client.transaction(
        compare=[client.transactions.value("lib/t") == "1"],
        success=[client.transactions.put("lib/t", "wrong")],
        failure=[client.transactions.put("lib/t", "3")],
    )
    assert ok is False
    assert client.get("lib/t")[0] == b"3"
    ok, _ = client.transaction(
        compare=[client.transactions.version("lib/t") == 3,
                 client.transactions.create("lib/missing") == 0],
        success=[client.transactions.delete("lib/t")],
        failure=[],
    )
    assert ok is True
    assert client.get("lib/t") == (None, None)


def test_status_names_this_member_as_leader_of_a_single_member_cluster(client):
    status = client.status()
    members = list(client.members)
    assert len(members) == 1 and members[0].name == "m1"
    assert status.leader is not None and status.leader.id == members[0].id
    assert status.raft_term >= 1
    assert status.raft_index >= 1
    assert status.db_size >= 0  # Trinity reports the in-memory state size: 0 when empty
