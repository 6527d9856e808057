#include "server/members.h"

#include <fmt/format.h>

#include "base/coding.h"
#include "server/ids.h"

namespace tri::server {
namespace {

constexpr std::uint64_t kMaxUrls = 64;
constexpr std::uint64_t kMaxTextBytes = 4096;
constexpr std::uint64_t kMaxMembers = 1 << 16;

void PutStrings(std::string& out, const std::vector<std::string>& v) {
  coding::PutVarint64(out, v.size());
  for (const auto& s : v)
    coding::PutLengthPrefixed(out, s);
}

bool ReadStrings(coding::Decoder& d, std::vector<std::string>& v) {
  std::uint64_t n = 0;
  if (!d.ReadVarint64(n) || n > kMaxUrls) return false;
  v.resize(n);
  for (auto& s : v) {
    if (!d.ReadLengthPrefixed(s, kMaxTextBytes)) return false;
  }
  return true;
}

void PutMember(std::string& out, const Member& m) {
  coding::PutFixed64(out, m.id);
  coding::PutLengthPrefixed(out, m.name);
  PutStrings(out, m.peer_urls);
  PutStrings(out, m.client_urls);
  coding::PutFixed8(out, m.is_learner ? 1 : 0);
}

bool ReadMember(coding::Decoder& d, Member& m) {
  std::uint8_t learner = 0;
  if (!d.ReadFixed64(m.id) || !d.ReadLengthPrefixed(m.name, kMaxTextBytes) ||
      !ReadStrings(d, m.peer_urls) || !ReadStrings(d, m.client_urls) || !d.ReadFixed8(learner) ||
      learner > 1)
    return false;
  m.is_learner = learner == 1;
  return true;
}

}  // namespace

std::string EncodeMember(const Member& m) {
  std::string out;
  PutMember(out, m);
  return out;
}

Result<Member> DecodeMember(std::string_view bytes) {
  coding::Decoder d(bytes);
  Member m;
  if (!ReadMember(d, m) || !d.done()) return Corruption("malformed member record");
  return m;
}

const Member* MemberTable::Find(std::uint64_t id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second;
}

std::uint64_t MemberTable::FindByPeerUrl(const std::vector<std::string>& peer_urls,
                                         std::uint64_t except_id) const {
  for (const auto& [id, m] : members_) {
    if (id == except_id) continue;
    for (const auto& url : m.peer_urls) {
      for (const auto& wanted : peer_urls) {
        if (url == wanted) return id;
      }
    }
  }
  return 0;
}

void MemberTable::Bootstrap(const std::vector<Member>& founders, std::uint64_t cluster_id) {
  cluster_id_ = cluster_id;
  members_.clear();
  removed_.clear();
  for (const Member& m : founders)
    members_[m.id] = m;
}

std::string MemberTable::AddOrPromote(const Member& m, bool as_learner) {
  auto it = members_.find(m.id);
  if (it != members_.end()) {
    if (it->second.is_learner && !as_learner) {
      it->second.is_learner = false;
      return fmt::format("member {} promoted to voter", IdToString(m.id));
    }
    return fmt::format("member {} already present", IdToString(m.id));
  }
  Member added = m;
  added.is_learner = as_learner;
  members_[m.id] = added;
  return fmt::format("member {} added as {} with peer URLs {}", IdToString(m.id),
                     as_learner ? "learner" : "voter", fmt::join(m.peer_urls, ","));
}

std::string MemberTable::Remove(std::uint64_t id) {
  members_.erase(id);
  removed_.insert(id);
  return fmt::format("member {} removed", IdToString(id));
}

std::string MemberTable::UpdatePeerUrls(std::uint64_t id,
                                        const std::vector<std::string>& peer_urls) {
  auto it = members_.find(id);
  if (it == members_.end())
    return fmt::format("member {} unknown; peer URL update ignored", IdToString(id));
  it->second.peer_urls = peer_urls;
  return fmt::format("member {} peer URLs now {}", IdToString(id), fmt::join(peer_urls, ","));
}

std::string MemberTable::PublishAttributes(std::uint64_t id, const std::string& name,
                                           const std::vector<std::string>& client_urls) {
  auto it = members_.find(id);
  if (it == members_.end())
    return fmt::format("member {} unknown; attributes ignored", IdToString(id));
  it->second.name = name;
  it->second.client_urls = client_urls;
  return fmt::format("member {} is \"{}\" serving clients at {}", IdToString(id), name,
                     fmt::join(client_urls, ","));
}

std::string MemberTable::Encode() const {
  std::string out;
  coding::PutFixed64(out, cluster_id_);
  coding::PutVarint64(out, members_.size());
  for (const auto& [id, m] : members_)
    PutMember(out, m);
  coding::PutVarint64(out, removed_.size());
  for (std::uint64_t id : removed_)
    coding::PutFixed64(out, id);
  return out;
}

Result<MemberTable> MemberTable::Decode(std::string_view bytes) {
  coding::Decoder d(bytes);
  MemberTable t;
  std::uint64_t n = 0;
  if (!d.ReadFixed64(t.cluster_id_)) return Corruption("member table: truncated cluster id");
  if (!d.ReadVarint64(n) || n > kMaxMembers) return Corruption("member table: bad member count");
  for (std::uint64_t i = 0; i < n; ++i) {
    Member m;
    if (!ReadMember(d, m)) return Corruption(fmt::format("member table: malformed member #{}", i));
    t.members_[m.id] = std::move(m);
  }
  if (!d.ReadVarint64(n) || n > kMaxMembers * 16)
    return Corruption("member table: bad removed count");
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint64_t id = 0;
    if (!d.ReadFixed64(id)) return Corruption("member table: truncated removed ids");
    t.removed_.insert(id);
  }
  if (!d.done()) return Corruption("member table: trailing bytes");
  return t;
}

}  // namespace tri::server
