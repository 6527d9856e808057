#pragma once

// Rendezvous (highest random weight) hashing, weighted and zone-aware, for
// choosing the replicas of a shard (docs/routing.md, "Rendezvous"). Node i
// scores a key with
//
//   score_i(key) = -capacity_i / ln(u_i),  u_i = (top 53 bits of
//                  HashCombine(key_hash, HashBytes(name_i)) + 0.5) / 2^53 in (0, 1)
//
// (Schindelhauer and Schomaker's weighted rule: node i wins with probability
// capacity_i / total). Replicas are taken in order of score, skipping a node
// whose zone already holds one while unused zones remain. A node's score for
// a key does not depend on the other nodes, so a join or a leave changes only
// the replica sets the node enters or leaves.

#include <cstdint>
#include <span>
#include <vector>

#include "base/result.h"
#include "routing/node.h"

namespace tri::routing {

class Rendezvous {
 public:
  static Result<Rendezvous> Build(std::span<const Node> nodes, const NodeLimits& limits = {});

  // Writes min(out.size(), node_count()) distinct node indexes, best first,
  // and returns how many. `scores` is scratch of at least node_count()
  // entries (so a hot path allocates nothing).
  std::size_t Choose(std::uint64_t key_hash, std::span<std::uint32_t> out,
                     std::span<double> scores) const;
  // The same, with its own scratch.
  std::vector<std::uint32_t> Choose(std::uint64_t key_hash, std::size_t count) const;

  // One node's score for a key (exposed for tests).
  double Score(std::uint64_t key_hash, std::uint32_t node) const;

  std::size_t node_count() const { return seeds_.size(); }
  std::size_t zone_count() const { return zone_count_; }
  std::uint32_t zone(std::uint32_t node) const { return zones_[node]; }

 private:
  Rendezvous() = default;

  std::vector<std::uint64_t> seeds_;  // HashBytes(name) per node
  std::vector<double> weights_;       // capacity per node
  std::vector<std::uint32_t> zones_;
  std::size_t zone_count_ = 0;
};

}  // namespace tri::routing
