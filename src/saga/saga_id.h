#pragma once

// Saga instance ids: unique per instance, sortable by creation time and safe in
// URLs, paths and shell words. Generated ids are ULIDs (a 48-bit unix
// millisecond timestamp then 80 random bits, in Crockford base32: 26
// characters, lexicographic order = time order). Clients may choose their own
// id instead (`tri saga start --id`), within the alphabet below.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/rng.h"
#include "base/status.h"

namespace tri::saga {

inline constexpr std::size_t kMaxSagaIdBytes = 128;
inline constexpr std::size_t kUlidLength = 26;

// A new ULID for `unix_ms`; the randomness comes from `rng` (pure: the caller
// owns the generator, so a seed replays).
std::string NewSagaId(std::uint64_t unix_ms, Rng& rng);

// A client-chosen id: 1..kMaxSagaIdBytes bytes of [A-Za-z0-9._~-] (RFC 3986
// "unreserved": no escaping in URLs) and not "." or "..". The error names the
// first offending byte and its position.
Status ValidateSagaId(std::string_view id);

}  // namespace tri::saga
