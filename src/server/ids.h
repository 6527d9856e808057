#pragma once

// Member and cluster ids, derived the way etcd derives them, so that the same
// configuration names the same ids in Trinity and in etcd:
//   member id  = first 8 bytes (big endian) of SHA-1(sorted peer URLs + cluster token [+ time])
//   cluster id = first 8 bytes (big endian) of SHA-1(sorted member ids, 8 bytes big endian each)

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tri::server {

// `unix_seconds` is given for members added to a running cluster (so that a member
// re-added with the same URLs gets a new id); founding members have none.
std::uint64_t ComputeMemberId(std::vector<std::string> peer_urls, const std::string& cluster_token,
                              std::optional<std::int64_t> unix_seconds = std::nullopt);

std::uint64_t ComputeClusterId(std::vector<std::uint64_t> member_ids);

// Ids are printed as lowercase hex without leading zeros, as etcd does.
std::string IdToString(std::uint64_t id);

}  // namespace tri::server
