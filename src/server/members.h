#pragma once

// The cluster's member table: who is in the Raft group, under which name, at which
// peer and client URLs. It is replicated state: changed only by applying committed
// entries (conf changes, attribute and peer-URL updates) and carried in snapshots,
// so every member agrees on it at equal applied index.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tri::server {

struct Member {
  std::uint64_t id = 0;
  std::string name;  // empty until the member starts and publishes it
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;  // empty until published
  bool is_learner = false;

  friend bool operator==(const Member&, const Member&) = default;
};

// Byte encodings (base/coding.h), used as raft::ConfChange::context and in snapshots.
std::string EncodeMember(const Member& m);
Result<Member> DecodeMember(std::string_view bytes);

class MemberTable {
 public:
  const std::map<std::uint64_t, Member>& members() const { return members_; }
  const Member* Find(std::uint64_t id) const;
  bool IsRemoved(std::uint64_t id) const { return removed_.count(id) != 0; }
  // A member already using one of `peer_urls` (other than `except_id`), or 0.
  std::uint64_t FindByPeerUrl(const std::vector<std::string>& peer_urls,
                              std::uint64_t except_id = 0) const;

  // Founding members (before anything is applied) and the cluster id they derive.
  void Bootstrap(const std::vector<Member>& founders, std::uint64_t cluster_id);
  // 0 until bootstrapped or restored: a member that joined an existing cluster
  // learns it with the leader's snapshot.
  std::uint64_t cluster_id() const { return cluster_id_; }
  // Effects of committed entries. Each returns what changed in words (for the log).
  std::string AddOrPromote(const Member& m, bool as_learner);
  std::string Remove(std::uint64_t id);
  std::string UpdatePeerUrls(std::uint64_t id, const std::vector<std::string>& peer_urls);
  std::string PublishAttributes(std::uint64_t id, const std::string& name,
                                const std::vector<std::string>& client_urls);

  std::string Encode() const;
  static Result<MemberTable> Decode(std::string_view bytes);

  friend bool operator==(const MemberTable&, const MemberTable&) = default;

 private:
  std::uint64_t cluster_id_ = 0;
  std::map<std::uint64_t, Member> members_;
  std::set<std::uint64_t> removed_;
};

}  // namespace tri::server
