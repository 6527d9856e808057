#pragma once

// The routing strategies of the reference design as pure choosers over node
// descriptions (docs/routing.md, "Strategies"): given the candidates, a
// request and a small state object the caller keeps, each returns the index
// of the chosen candidate, or an error saying why none qualifies. Ties go to
// the earlier candidate, so the caller's order is the final tie-breaker.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/result.h"
#include "routing/bounded_load.h"
#include "routing/node.h"
#include "routing/ring.h"

namespace tri::routing {

enum class Strategy : std::uint8_t {
  kLocalFirst = 0,  // the local candidate; else the nearest in the origin's zone; else the nearest
  kLeastLatency = 1,    // the smallest rtt_us
  kBandwidthAware = 2,  // the smallest rtt_us + payload_bytes / bandwidth (estimate known)
  kLeastLoaded = 3,     // the smallest load / capacity; ties by rtt_us
  kRoundRobin = 4,      // candidates in turn, from a cursor in the state
  kConsistentHash = 5,  // the key's node on the ring, with bounded loads over `load`
};

std::string_view StrategyName(Strategy strategy);
// "local-first", "least-latency", "bandwidth-aware", "least-loaded",
// "round-robin", "consistent-hash".
Result<Strategy> ParseStrategy(std::string_view name);

struct Request {
  std::string_view key;             // what consistent hashing places
  std::uint64_t payload_bytes = 0;  // what bandwidth-aware moves
  std::string_view origin_zone;     // the zone the request came from (local-first)
};

// What a chooser keeps between calls. One per caller; not shared between threads.
struct ChooserState {
  std::uint64_t round_robin_cursor = 0;
  RingOptions ring_options;
  BoundedLoadOptions bounded_load;
  // The consistent-hash ring of the last candidates, rebuilt when their
  // names, zones or capacities change. With candidates_version == 0 the
  // candidates are fingerprinted on every call (NodesFingerprint: hashing N
  // names, ~20 ns a node); a caller that knows when its list changes (a
  // membership version) sets candidates_version instead, promising that an
  // unchanged non-zero version means unchanged names, zones and capacities,
  // and a call then costs one pass over the loads plus one lookup.
  std::uint64_t candidates_version = 0;
  std::uint64_t ring_version = 0;  // the version the ring was last checked for
  std::optional<Ring> ring;
};

// Errors: kFailedPrecondition when there are no candidates; kUnavailable when
// none qualifies (bandwidth-aware with no bandwidth estimate); kInvalidArgument
// for a bad candidate (capacity 0 for least-loaded; anything ValidateNodes
// refuses for consistent-hash).
Result<std::size_t> Choose(Strategy strategy, std::span<const Node> candidates,
                           const Request& request, ChooserState& state);

}  // namespace tri::routing
