#include "saga/saga_id.h"

namespace tri::saga {

namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string NewSagaId(std::uint64_t unix_ms, Rng& rng) {
  std::string id(kUlidLength, '0');
  // 10 characters of timestamp (50 bits, the top 2 always zero for 48 bits).
  std::uint64_t t = unix_ms & ((std::uint64_t{1} << 48) - 1);
  for (int i = 9; i >= 0; --i) {
    id[static_cast<std::size_t>(i)] = kCrockford[t & 31];
    t >>= 5;
  }
  // 16 characters of randomness (80 bits).
  std::uint64_t hi = rng.Next() & 0xFFFFu;  // 16 bits
  std::uint64_t lo = rng.Next();            // 64 bits
  for (int i = 25; i >= 10; --i) {
    id[static_cast<std::size_t>(i)] = kCrockford[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  return id;
}

Status ValidateSagaId(std::string_view id) {
  if (id.empty()) return InvalidArgument("saga id is empty");
  if (id.size() > kMaxSagaIdBytes) {
    return InvalidArgument("saga id is " + std::to_string(id.size()) + " bytes; the limit is " +
                           std::to_string(kMaxSagaIdBytes));
  }
  if (id == "." || id == "..")
    return InvalidArgument("saga id '" + std::string(id) + "' is reserved");
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (!Unreserved(id[i])) {
      constexpr char kHex[] = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(id[i]);
      const std::string shown = {'0', 'x', kHex[byte >> 4], kHex[byte & 15]};
      return InvalidArgument("saga id has byte " + shown + " at position " + std::to_string(i) +
                             "; ids use only letters, digits and '-', '.', '_', '~'");
    }
  }
  return Status::Ok();
}

}  // namespace tri::saga
