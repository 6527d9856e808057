"""The v3lock / v3election services (server side) probed through generated
protobuf modules (protoc --python_out) and grpcio's generic calls; run as its
own process by test_election.py, because python3-etcd3 registers its own copy
of etcd's protos in the same descriptor pool.

usage: election_services_probe.py ENDPOINT PROTO_MODULES_DIR  (prints JSON)
"""

import json
import sys
import threading
import time

QUIET_S = 1.5


def run_services(endpoint, protos):
    """Lock, Unlock, Campaign, Proclaim, Leader, Observe, Resign through a
    member that is not necessarily the leader; outcomes with lease ids named."""
    import grpc
    rpc_pb2, lock_pb2, election_pb2 = protos
    channel = grpc.insecure_channel(endpoint)

    def unary(method, request, response_type, timeout=10):
        call = channel.unary_unary(method, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=response_type.FromString)
        try:
            return call(request, timeout=timeout), None
        except grpc.RpcError as error:
            return None, (error.code().name, error.details())

    leases = {}

    def grant(name):
        response, error = unary("/etcdserverpb.Lease/LeaseGrant", rpc_pb2.LeaseGrantRequest(TTL=60),
                                rpc_pb2.LeaseGrantResponse)
        assert error is None, error
        leases[name] = response.ID
        return response.ID

    def named(key):
        text = key.decode() if isinstance(key, bytes) else key
        for name, lease in leases.items():
            text = text.replace("%x" % lease, "<%s>" % name)
        return text

    out = []
    a, b = grant("a"), grant("b")
    held, _ = unary("/v3lockpb.Lock/Lock", lock_pb2.LockRequest(name=b"svc", lease=a),
                    lock_pb2.LockResponse)
    out.append(("lock a", named(held.key)))
    waiter = {}
    thread = threading.Thread(target=lambda: waiter.update(result=unary(
        "/v3lockpb.Lock/Lock", lock_pb2.LockRequest(name=b"svc", lease=b),
        lock_pb2.LockResponse, timeout=20)))
    thread.start()
    thread.join(QUIET_S)
    out.append(("lock b waits", thread.is_alive()))
    unlocked, _ = unary("/v3lockpb.Lock/Unlock", lock_pb2.UnlockRequest(key=held.key),
                        lock_pb2.UnlockResponse)
    thread.join(20)
    response, error = waiter["result"]
    out.append(("lock b after unlock", named(response.key), error,
                response.header.revision >= unlocked.header.revision))
    out.append(("lock with a missing lease",
                unary("/v3lockpb.Lock/Lock", lock_pb2.LockRequest(name=b"svc", lease=424242),
                      lock_pb2.LockResponse)[1]))

    observed = []
    observe_call = channel.unary_stream(
        "/v3electionpb.Election/Observe", request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=election_pb2.LeaderResponse.FromString)
    stream = observe_call(election_pb2.LeaderRequest(name=b"chief"), timeout=30)

    def observe():
        try:
            for item in stream:
                observed.append((named(item.kv.key), item.kv.value.decode()))
        except grpc.RpcError:
            pass

    observer = threading.Thread(target=observe)
    observer.start()
    out.append(("leader before any", unary("/v3electionpb.Election/Leader",
                                           election_pb2.LeaderRequest(name=b"chief"),
                                           election_pb2.LeaderResponse)[1]))
    one, _ = unary("/v3electionpb.Election/Campaign",
                   election_pb2.CampaignRequest(name=b"chief", lease=a, value=b"one"),
                   election_pb2.CampaignResponse)
    out.append(("campaign a", named(one.leader.key), one.leader.name.decode(),
                one.leader.rev == one.header.revision))
    second = {}
    campaign_b = threading.Thread(target=lambda: second.update(result=unary(
        "/v3electionpb.Election/Campaign",
        election_pb2.CampaignRequest(name=b"chief", lease=b, value=b"two"),
        election_pb2.CampaignResponse, timeout=20)))
    campaign_b.start()
    campaign_b.join(QUIET_S)
    out.append(("campaign b waits", campaign_b.is_alive()))
    out.append(("proclaim a", unary("/v3electionpb.Election/Proclaim",
                                    election_pb2.ProclaimRequest(leader=one.leader, value=b"one+"),
                                    election_pb2.ProclaimResponse)[1]))
    unary("/etcdserverpb.Lease/LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=a),
          rpc_pb2.LeaseRevokeResponse)
    campaign_b.join(20)
    two, error = second["result"]
    out.append(("campaign b after a's lease", named(two.leader.key), error,
                two.leader.rev > one.leader.rev))
    out.append(("stale proclaim", unary("/v3electionpb.Election/Proclaim",
                                        election_pb2.ProclaimRequest(leader=one.leader, value=b"x"),
                                        election_pb2.ProclaimResponse)[1]))
    out.append(("proclaim without leader", unary("/v3electionpb.Election/Proclaim",
                                                 election_pb2.ProclaimRequest(value=b"x"),
                                                 election_pb2.ProclaimResponse)[1]))
    leader, _ = unary("/v3electionpb.Election/Leader", election_pb2.LeaderRequest(name=b"chief"),
                      election_pb2.LeaderResponse)
    out.append(("leader", named(leader.kv.key), leader.kv.value.decode()))
    out.append(("resign b", unary("/v3electionpb.Election/Resign",
                                  election_pb2.ResignRequest(leader=two.leader),
                                  election_pb2.ResignResponse)[1]))
    out.append(("leader after resign", unary("/v3electionpb.Election/Leader",
                                             election_pb2.LeaderRequest(name=b"chief"),
                                             election_pb2.LeaderResponse)[1]))
    time.sleep(QUIET_S)
    stream.cancel()
    observer.join(10)
    out.append(("observed", observed))
    channel.close()
    return out


def main():
    endpoint, modules = sys.argv[1], sys.argv[2]
    sys.path.insert(0, modules)
    from etcdserverpb import rpc_pb2
    from v3electionpb import v3election_pb2
    from v3lockpb import v3lock_pb2
    print(json.dumps(run_services(endpoint, (rpc_pb2, v3lock_pb2, v3election_pb2))))


if __name__ == "__main__":
    main()
