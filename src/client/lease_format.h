#pragma once

// etcdctl 3.4's output for `lease grant|revoke|keep-alive|timetolive|list`,
// byte for byte (simple and json; etcdctl refuses table for lease commands).
// Its json printer writes clientv3's response structs, whose response header
// is embedded (its fields flattened into the object, zero ones omitted) and
// whose own fields are named "ID"/"TTL" for grant and keep-alive, "id"/"ttl"/
// "granted-ttl"/"keys" for timetolive and "leases":[{"id":N}] for list.

#include <cstdint>
#include <string>

#include "etcdserverpb/rpc.pb.h"

namespace tri::client {

// A lease id as etcdctl prints and parses it: %016x.
std::string LeaseIdHex(std::int64_t id);

std::string LeaseGrantSimple(const etcdserverpb::LeaseGrantResponse& r);
std::string LeaseGrantJson(const etcdserverpb::LeaseGrantResponse& r);
std::string LeaseRevokeSimple(std::int64_t id);
std::string LeaseKeepAliveSimple(const etcdserverpb::LeaseKeepAliveResponse& r);
std::string LeaseKeepAliveJson(const etcdserverpb::LeaseKeepAliveResponse& r);
std::string LeaseTimeToLiveSimple(const etcdserverpb::LeaseTimeToLiveResponse& r, bool keys);
std::string LeaseTimeToLiveJson(const etcdserverpb::LeaseTimeToLiveResponse& r);
std::string LeaseLeasesSimple(const etcdserverpb::LeaseLeasesResponse& r);
std::string LeaseLeasesJson(const etcdserverpb::LeaseLeasesResponse& r);

}  // namespace tri::client
