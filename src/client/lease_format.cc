#include "client/lease_format.h"

#include <cstdio>

namespace tri::client {
namespace {

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// The embedded *pb.ResponseHeader of clientv3's structs: its fields, each
// omitted when zero (the gogo json tags carry omitempty), then a comma when
// anything was written.
std::string FlatHeader(const etcdserverpb::ResponseHeader& h) {
  std::string out;
  auto field = [&out](const char* name, const std::string& value, bool zero) {
    if (zero) return;
    out += std::string("\"") + name + "\":" + value + ",";
  };
  field("cluster_id", std::to_string(h.cluster_id()), h.cluster_id() == 0);
  field("member_id", std::to_string(h.member_id()), h.member_id() == 0);
  field("revision", std::to_string(h.revision()), h.revision() == 0);
  field("raft_term", std::to_string(h.raft_term()), h.raft_term() == 0);
  return out;
}

}  // namespace

std::string LeaseIdHex(std::int64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(static_cast<std::uint64_t>(id)));
  return buf;
}

std::string LeaseGrantSimple(const etcdserverpb::LeaseGrantResponse& r) {
  return "lease " + LeaseIdHex(r.id()) + " granted with TTL(" + std::to_string(r.ttl()) + "s)\n";
}

std::string LeaseGrantJson(const etcdserverpb::LeaseGrantResponse& r) {
  // clientv3.LeaseGrantResponse: ID, TTL, Error (no omitempty).
  return "{" + FlatHeader(r.header()) + "\"ID\":" + std::to_string(r.id()) +
         ",\"TTL\":" + std::to_string(r.ttl()) + ",\"Error\":\"\"}\n";
}

std::string LeaseRevokeSimple(std::int64_t id) {
  return "lease " + LeaseIdHex(id) + " revoked\n";
}

std::string LeaseKeepAliveSimple(const etcdserverpb::LeaseKeepAliveResponse& r) {
  return "lease " + LeaseIdHex(r.id()) + " keepalived with TTL(" + std::to_string(r.ttl()) + ")\n";
}

std::string LeaseKeepAliveJson(const etcdserverpb::LeaseKeepAliveResponse& r) {
  return "{" + FlatHeader(r.header()) + "\"ID\":" + std::to_string(r.id()) +
         ",\"TTL\":" + std::to_string(r.ttl()) + "}\n";
}

std::string LeaseTimeToLiveSimple(const etcdserverpb::LeaseTimeToLiveResponse& r, bool keys) {
  if (r.grantedttl() == 0 && r.ttl() == -1) {
    return "lease " + LeaseIdHex(r.id()) + " already expired\n";
  }
  std::string out = "lease " + LeaseIdHex(r.id()) + " granted with TTL(" +
                    std::to_string(r.grantedttl()) + "s), remaining(" + std::to_string(r.ttl()) +
                    "s)";
  if (keys) {
    // Go's %v of a []string: [a b c].
    out += ", attached keys([";
    for (int i = 0; i < r.keys_size(); ++i)
      out += (i == 0 ? "" : " ") + r.keys(i);
    out += "])";
  }
  return out + "\n";
}

std::string LeaseTimeToLiveJson(const etcdserverpb::LeaseTimeToLiveResponse& r) {
  std::string keys = "null";
  if (r.keys_size() > 0) {
    keys = "[";
    for (int i = 0; i < r.keys_size(); ++i)
      keys += (i == 0 ? "\"" : ",\"") + Base64(r.keys(i)) + "\"";
    keys += "]";
  }
  return "{" + FlatHeader(r.header()) + "\"id\":" + std::to_string(r.id()) +
         ",\"ttl\":" + std::to_string(r.ttl()) +
         ",\"granted-ttl\":" + std::to_string(r.grantedttl()) + ",\"keys\":" + keys + "}\n";
}

std::string LeaseLeasesSimple(const etcdserverpb::LeaseLeasesResponse& r) {
  std::string out = "found " + std::to_string(r.leases_size()) + " leases\n";
  for (const auto& lease : r.leases())
    out += LeaseIdHex(lease.id()) + "\n";
  return out;
}

std::string LeaseLeasesJson(const etcdserverpb::LeaseLeasesResponse& r) {
  std::string out = "{" + FlatHeader(r.header()) + "\"leases\":[";
  for (int i = 0; i < r.leases_size(); ++i)
    out += (i == 0 ? "{\"id\":" : ",{\"id\":") + std::to_string(r.leases(i).id()) + "}";
  return out + "]}\n";
}

}  // namespace tri::client
