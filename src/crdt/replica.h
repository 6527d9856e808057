#pragma once

// Replica identity and the dot, the name of one event (docs/crdt.md).

#include <compare>
#include <cstdint>
#include <string>

namespace tri::crdt {

// A replica is named by a 64-bit integer chosen by the driver (a member id, a hash
// of a node name). Ids need only be unique among the replicas that merge state;
// their order is the deterministic tie-break wherever two events are otherwise
// equal (LWW timestamps), so every replica resolves a tie the same way.
using ReplicaId = std::uint64_t;

// The `counter`-th event of `replica`. Counters start at 1: a dot with counter 0
// names no event and is never produced by a version vector.
struct Dot {
  ReplicaId replica = 0;
  std::uint64_t counter = 0;

  friend bool operator==(const Dot&, const Dot&) = default;
  friend auto operator<=>(const Dot&, const Dot&) = default;
};

// "replica:counter", for error messages and test output.
inline std::string DotToString(const Dot& dot) {
  return std::to_string(dot.replica) + ":" + std::to_string(dot.counter);
}

}  // namespace tri::crdt
