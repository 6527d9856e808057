#include "server/ids.h"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>

namespace tri::server {
namespace {

std::uint64_t FirstEightBigEndian(const unsigned char* digest) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | digest[i];
  return v;
}

std::uint64_t Sha1Prefix(const std::string& bytes) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return FirstEightBigEndian(digest);
}

}  // namespace

std::uint64_t ComputeMemberId(std::vector<std::string> peer_urls, const std::string& cluster_token,
                              std::optional<std::int64_t> unix_seconds) {
  std::sort(peer_urls.begin(), peer_urls.end());
  std::string bytes;
  for (const std::string& url : peer_urls)
    bytes += url;
  bytes += cluster_token;
  if (unix_seconds) bytes += std::to_string(*unix_seconds);
  return Sha1Prefix(bytes);
}

std::uint64_t ComputeClusterId(std::vector<std::uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  std::string bytes;
  for (std::uint64_t id : member_ids) {
    for (int shift = 56; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<char>(id >> shift));
  }
  return Sha1Prefix(bytes);
}

std::string IdToString(std::uint64_t id) {
  return fmt::format("{:x}", id);
}

}  // namespace tri::server
