#pragma once

// A consistent-hash ring with virtual nodes weighted by capacity
// (docs/routing.md, "The ring"). Node i owns round(vnodes_per_capacity *
// capacity_i) points at HashCombine(HashBytes(name_i), v), so a node's points
// depend only on its own name and capacity: a join or a leave moves only the
// arcs of the node that came or went.
//
// A hash is owned by the first point clockwise at or after it (wrapping). The
// points are one sorted flat array with a radix index over their top bits
// (about two slots per point: the first point of each slot). Owner() reads a
// second, finer table first (four to eight slots per point): a slot that no
// point falls inside holds its owner directly, so most lookups read one
// 4-byte slot and nothing else; the rest scan from the radix index, about one
// point. No allocation, no tree walk.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "routing/node.h"

namespace tri::routing {

struct RingOptions {
  std::uint32_t vnodes_per_capacity = 160;  // points per unit of capacity
  std::uint32_t max_vnodes_per_node = 65'536;
  std::size_t max_points = std::size_t{1} << 24;
  NodeLimits node_limits;
};

class Ring {
 public:
  struct Point {
    std::uint64_t hash;
    std::uint32_t node;  // index into the nodes the ring was built from
  };

  // Validates the nodes (ValidateNodes) and the bounds; an error names the
  // node or the bound.
  static Result<Ring> Build(std::span<const Node> nodes, const RingOptions& options = {});

  // The index of the first point clockwise at or after `hash`.
  std::size_t PointIndexAt(std::uint64_t hash) const {
    std::size_t i = bucket_start_[hash >> bucket_shift_];
    while (i < points_.size() && points_[i].hash < hash)
      ++i;
    return i == points_.size() ? 0 : i;
  }
  // The node that owns `hash` on the ring alone (no load bound).
  std::uint32_t Owner(std::uint64_t hash) const {
    const std::uint32_t slot = owner_slots_[hash >> owner_shift_];
    if (slot & kDirectOwner) return slot & ~kDirectOwner;
    return points_[PointIndexAt(hash)].node;
  }

  // Up to `out.size()` distinct nodes clockwise from `hash`, each in a zone not
  // used yet while such zones remain (then any node not chosen yet). Returns
  // how many were written: min(out.size(), node_count()).
  std::size_t Replicas(std::uint64_t hash, std::span<std::uint32_t> out) const;

  std::span<const Point> points() const { return points_; }
  std::size_t node_count() const { return capacities_.size(); }
  std::size_t zone_count() const { return zone_count_; }
  std::uint32_t capacity(std::uint32_t node) const { return capacities_[node]; }
  std::uint32_t zone(std::uint32_t node) const { return zones_[node]; }
  std::uint64_t total_capacity() const { return total_capacity_; }
  // A fingerprint of the node names, capacities and zones the ring was built
  // from, to notice when a cached ring no longer matches its candidates.
  std::uint64_t fingerprint() const { return fingerprint_; }

 private:
  Ring() = default;

  static constexpr std::uint32_t kDirectOwner = 0x8000'0000u;

  std::vector<Point> points_;  // sorted by (hash, node)
  // Per radix slot: the first point whose top bits are >= the slot; 2^bits + 1 entries.
  std::vector<std::uint32_t> bucket_start_;
  unsigned bucket_shift_ = 63;
  // Per fine slot: kDirectOwner | node when no point falls inside the slot,
  // else 0 (look the point up).
  std::vector<std::uint32_t> owner_slots_;
  unsigned owner_shift_ = 63;
  std::vector<std::uint32_t> capacities_;
  std::vector<std::uint32_t> zones_;  // zone index per node
  std::size_t zone_count_ = 0;
  std::uint64_t total_capacity_ = 0;
  std::uint64_t fingerprint_ = 0;
};

// The fingerprint Ring::fingerprint() is compared with.
std::uint64_t NodesFingerprint(std::span<const Node> nodes);

}  // namespace tri::routing
