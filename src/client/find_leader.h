#pragma once

// The endpoint whose member leads, for benchmarks that send every request to
// the leader (`--target-leader`).

#include <chrono>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/client_tls.h"

namespace tri::client {

// Asks each endpoint's Maintenance.Status in turn; the first whose member is
// the leader. Unavailable (listing every endpoint's error) when none is.
Result<std::string> FindLeaderEndpoint(const std::vector<std::string>& endpoints,
                                       const ClientTls& tls, std::chrono::milliseconds dial_timeout,
                                       std::chrono::milliseconds request_timeout);

}  // namespace tri::client
