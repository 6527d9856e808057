#pragma once

// Endpoint lists in etcdctl's form: "host:port", "http://host:port" or
// "https://host:port", comma separated.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tri::client {

// Bound on the number of endpoints one list may name.
inline constexpr std::size_t kMaxEndpoints = 64;

// Parses "a:1,http://b:2,https://c:3" into {"a:1", "b:2", "https://c:3"}: gRPC
// targets, except that an https endpoint keeps its scheme (always dialled with TLS;
// client_tls.h). Refuses an empty list, an empty item, any other scheme, a path
// after host:port, a missing or out-of-range port, and more than kMaxEndpoints
// items; each error names the offending item.
Result<std::vector<std::string>> ParseEndpoints(std::string_view csv);

}  // namespace tri::client
