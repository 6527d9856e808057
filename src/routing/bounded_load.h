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

#include "base/status.h"
#include "routing/ring.h"

namespace tri::routing {

struct BoundedLoadOptions {
  // epsilon in thousandths: 250 caps every node at 1.25 times its fair share.
  std::uint32_t epsilon_permille = 250;
};

Status ValidateBoundedLoadOptions(const BoundedLoadOptions& options);

// cap_i(balls) above, in exact integer arithmetic. REQUIRES total_capacity > 0.
std::uint64_t BoundedLoadCap(std::uint64_t balls, std::uint32_t capacity,
                             std::uint64_t total_capacity, std::uint32_t epsilon_permille);

// The node that takes one more ball with hash `hash`, given the current loads
// of the ring's nodes (loads.size() == ring.node_count(), total_load their
// sum): the first node clockwise from the hash whose load is below its cap for
// total_load + 1 balls. Pure; allocation-free.
std::uint32_t ChooseBoundedLoad(const Ring& ring, std::span<const std::uint64_t> loads,
                                std::uint64_t total_load, std::uint64_t hash,
                                std::uint32_t epsilon_permille);

// Places balls one at a time by ChooseBoundedLoad and keeps the loads. After
// every Place, every node's load is within its cap for the balls placed so far
// (caps only grow with m, so the bound holds for all of them at once).
class BoundedLoadPlacer {
 public:
  // REQUIRES ValidateBoundedLoadOptions(options).ok(); `ring` outlives the placer.
  BoundedLoadPlacer(const Ring& ring, const BoundedLoadOptions& options);

  std::uint32_t Place(std::uint64_t hash);

  std::span<const std::uint64_t> loads() const { return loads_; }
  std::uint64_t placed() const { return placed_; }
  std::uint64_t Cap(std::uint32_t node) const;

 private:
  const Ring* ring_;
  BoundedLoadOptions options_;
  std::vector<std::uint64_t> loads_;
  std::uint64_t placed_ = 0;
};

}  // namespace tri::routing
