#include "routing/ring.h"

#include <algorithm>
#include <bit>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "routing/hash.h"

namespace tri::routing {

std::uint64_t NodesFingerprint(std::span<const Node> nodes) {
  std::uint64_t h = HashBytes("routing.nodes", nodes.size());
  for (const Node& node : nodes) {
    h = HashCombine(h, HashBytes(node.name));
    h = HashCombine(h, HashBytes(EffectiveZone(node)));
    h = HashCombine(h, node.capacity);
  }
  return h;
}

Result<Ring> Ring::Build(std::span<const Node> nodes, const RingOptions& options) {
  TRI_RETURN_IF_ERROR(ValidateNodes(nodes, options.node_limits));
  if (nodes.size() >= kDirectOwner) {
    return InvalidArgument("routing ring: " + std::to_string(nodes.size()) +
                           " nodes do not fit a 31-bit node index");
  }
  if (options.vnodes_per_capacity == 0) {
    return InvalidArgument("routing ring: vnodes_per_capacity is 0");
  }
  Ring ring;
  std::size_t total_points = 0;
  std::vector<std::uint32_t> vnodes(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::uint64_t wanted = std::uint64_t{options.vnodes_per_capacity} * nodes[i].capacity;
    if (wanted > options.max_vnodes_per_node) {
      return InvalidArgument("routing ring: node '" + nodes[i].name + "' needs " +
                             std::to_string(wanted) + " points, over max_vnodes_per_node " +
                             std::to_string(options.max_vnodes_per_node));
    }
    vnodes[i] = static_cast<std::uint32_t>(wanted);
    total_points += vnodes[i];
    ring.total_capacity_ += nodes[i].capacity;
  }
  if (total_points > options.max_points || total_points >= UINT32_MAX) {
    return InvalidArgument("routing ring: " + std::to_string(total_points) +
                           " points exceed max_points " + std::to_string(options.max_points));
  }
  ring.points_.reserve(total_points);
  ring.capacities_.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const std::uint64_t seed = HashBytes(nodes[i].name);
    for (std::uint32_t v = 0; v < vnodes[i]; ++v) {
      ring.points_.push_back({HashCombine(seed, v), static_cast<std::uint32_t>(i)});
    }
    ring.capacities_.push_back(nodes[i].capacity);
  }
  std::sort(ring.points_.begin(), ring.points_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.node < b.node;
  });
  ring.zone_count_ = ZoneIndexes(nodes, ring.zones_);
  ring.fingerprint_ = NodesFingerprint(nodes);

  // About two buckets per point keeps the scan after the index read short.
  const unsigned bits = std::clamp<unsigned>(std::bit_width(total_points) + 1, 1, 24);
  ring.bucket_shift_ = 64 - bits;
  const std::size_t buckets = std::size_t{1} << bits;
  ring.bucket_start_.assign(buckets + 1, 0);
  std::size_t p = 0;
  for (std::size_t b = 0; b <= buckets; ++b) {
    while (p < ring.points_.size() && (ring.points_[p].hash >> ring.bucket_shift_) < b)
      ++p;
    ring.bucket_start_[b] = static_cast<std::uint32_t>(p);
  }
  TRI_ASSERT(ring.bucket_start_[buckets] == ring.points_.size());

  // The fine owner table: a slot holds its owner when no point lies inside
  // it (then every hash in it has the same first point at or after it).
  const unsigned fine_bits = std::clamp<unsigned>(std::bit_width(total_points) + 2, 1, 24);
  ring.owner_shift_ = 64 - fine_bits;
  const std::size_t slots = std::size_t{1} << fine_bits;
  ring.owner_slots_.assign(slots, 0);
  std::size_t next = 0;  // the first point whose slot is >= s
  for (std::size_t slot = 0; slot < slots; ++slot) {
    while (next < ring.points_.size() && (ring.points_[next].hash >> ring.owner_shift_) < slot) {
      ++next;
    }
    const bool point_inside =
        next < ring.points_.size() && (ring.points_[next].hash >> ring.owner_shift_) == slot;
    if (point_inside) continue;
    const Point& first = ring.points_[next == ring.points_.size() ? 0 : next];
    ring.owner_slots_[slot] = kDirectOwner | first.node;
  }
  return ring;
}

std::size_t Ring::Replicas(std::uint64_t hash, std::span<std::uint32_t> out) const {
  const std::size_t wanted = std::min(out.size(), node_count());
  std::size_t chosen = 0;
  const std::size_t start = PointIndexAt(hash);
  auto taken = [&](std::uint32_t node) {
    return std::find(out.begin(), out.begin() + chosen, node) != out.begin() + chosen;
  };
  auto zone_used = [&](std::uint32_t node) {
    for (std::size_t k = 0; k < chosen; ++k) {
      if (zones_[out[k]] == zones_[node]) return true;
    }
    return false;
  };
  // First lap: one node per zone, while unused zones remain; second lap: any
  // node not chosen yet. Each lap visits every point at most once.
  for (int lap = 0; lap < 2 && chosen < wanted; ++lap) {
    for (std::size_t step = 0; step < points_.size() && chosen < wanted; ++step) {
      if (lap == 0 && chosen >= zone_count_) break;
      const std::uint32_t node = points_[(start + step) % points_.size()].node;
      if (taken(node)) continue;
      if (lap == 0 && zone_used(node)) continue;
      out[chosen++] = node;
    }
  }
  TRI_ASSERT(chosen == wanted);
  return chosen;
}

}  // namespace tri::routing
