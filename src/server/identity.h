#pragma once

// Who this data directory belongs to: the member's name, id and cluster id, written
// once when the member first starts (file "member", atomically: tmp, fsync, rename,
// directory fsync) and read on every later start, so that a restart never depends
// on flags matching the original ones.

#include <cstdint>
#include <optional>
#include <string>

#include "base/result.h"
#include "io/file_system.h"

namespace tri::server {

struct NodeIdentity {
  std::string name;
  std::uint64_t member_id = 0;
  std::uint64_t cluster_id = 0;  // 0: joined an existing cluster, not learned yet
  friend bool operator==(const NodeIdentity&, const NodeIdentity&) = default;
};

inline constexpr const char* kIdentityFileName = "member";

// nullopt when the directory has no identity yet (a new member).
Result<std::optional<NodeIdentity>> LoadIdentity(io::FileSystem& fs, const std::string& data_dir);
Status SaveIdentity(io::FileSystem& fs, const std::string& data_dir, const NodeIdentity& id);

}  // namespace tri::server
