#pragma once

// Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
// "Consistent Hashing with Bounded Loads", SODA 2018; docs/routing.md). With m
// balls placed (the new one included) each node i may hold at most
//
//   cap_i(m) = ceil((1 + epsilon) * m * capacity_i / total_capacity)
//
// and a ball whose ring owner is full walks clockwise to the first node with
// room. Some node always has room: the caps sum to at least (1 + epsilon) * m > m - 1.

#include <cstdint>
#include <span>
#include <vector>

#include "base/assert.h"
#include "base/status.h"
#include "routing/ring.h"

namespace tri::routing {

struct BoundedLoadOptions {
  // epsilon in thousandths: 240 caps every node at ceil(1.24 x its fair share),
  // which stays within 1.25 x the fair share once that share is >= 100 balls
  // (the ceiling adds less than one ball).
  std::uint32_t epsilon_permille = 240;
};

Status ValidateBoundedLoadOptions(const BoundedLoadOptions& options);

// cap_i(balls) above, in exact integer arithmetic. REQUIRES total_capacity > 0.
std::uint64_t BoundedLoadCap(std::uint64_t balls, std::uint32_t capacity,
                             std::uint64_t total_capacity, std::uint32_t epsilon_permille);

// The node that takes one more ball with hash `hash`, given the current loads
// of the ring's nodes (loads.size() == ring.node_count()): the first node
// clockwise from the hash whose load is below its cap for `balls` balls.
// The online rule passes balls = (sum of loads) + 1. REQUIRES balls > sum of
// loads (then some node has room). Pure; allocation-free.
std::uint32_t ChooseBoundedLoad(const Ring& ring, std::span<const std::uint64_t> loads,
                                std::uint64_t balls, std::uint64_t hash,
                                std::uint32_t epsilon_permille);

// The same rule over any source of loads: `load_of(node)` returns the load of
// the ring's node `node` (e.g. a field of the caller's node list, read in place).
template <typename LoadOf>
std::uint32_t ChooseBoundedLoadBy(const Ring& ring, const LoadOf& load_of, std::uint64_t balls,
                                  std::uint64_t hash, std::uint32_t epsilon_permille) {
  auto has_room = [&](std::uint32_t node) {
    return static_cast<std::uint64_t>(load_of(node)) <
           BoundedLoadCap(balls, ring.capacity(node), ring.total_capacity(), epsilon_permille);
  };
  // The common case first: the ring owner has room (one table read).
  const std::uint32_t owner = ring.Owner(hash);
  if (has_room(owner)) return owner;
  const auto points = ring.points();
  const std::size_t start = ring.PointIndexAt(hash);
  for (std::size_t step = 0; step < points.size(); ++step) {
    std::size_t i = start + step;
    if (i >= points.size()) i -= points.size();
    if (has_room(points[i].node)) return points[i].node;
  }
  TRI_ASSERT_MSG(false, "bounded load: no node below its cap, but the caps sum above the load");
  TRI_UNREACHABLE();
}

// Places a set of balls one at a time and keeps the loads: each ball goes to
// the first node clockwise from its hash whose load is below its cap for
// m = max(planned_balls, balls placed + 1). With planned_balls = the size of
// the set (a static assignment: keys or shards known in advance) the caps are
// the final ones from the first ball on, so they bind only where the ring
// alone would overload a node and a join or a leave moves few extra balls;
// with planned_balls = 0 this is the online rule of ChooseBoundedLoad, whose
// small early caps displace many early balls. After every Place, every load
// is within its cap for the current m (caps only grow with m).
class BoundedLoadPlacer {
 public:
  // REQUIRES ValidateBoundedLoadOptions(options).ok(); `ring` outlives the placer.
  BoundedLoadPlacer(const Ring& ring, const BoundedLoadOptions& options,
                    std::uint64_t planned_balls = 0);

  std::uint32_t Place(std::uint64_t hash);

  std::span<const std::uint64_t> loads() const { return loads_; }
  std::uint64_t placed() const { return placed_; }
  // The node's cap for the current m.
  std::uint64_t Cap(std::uint32_t node) const;

 private:
  const Ring* ring_;
  BoundedLoadOptions options_;
  std::uint64_t planned_balls_;
  std::vector<std::uint64_t> loads_;
  std::uint64_t placed_ = 0;
};

}  // namespace tri::routing
