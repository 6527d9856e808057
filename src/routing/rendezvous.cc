#include "routing/rendezvous.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"
#include "routing/hash.h"

namespace tri::routing {

Result<Rendezvous> Rendezvous::Build(std::span<const Node> nodes, const NodeLimits& limits) {
  TRI_RETURN_IF_ERROR(ValidateNodes(nodes, limits));
  Rendezvous r;
  r.seeds_.reserve(nodes.size());
  r.weights_.reserve(nodes.size());
  for (const Node& node : nodes) {
    r.seeds_.push_back(HashBytes(node.name));
    r.weights_.push_back(static_cast<double>(node.capacity));
  }
  r.zone_count_ = ZoneIndexes(nodes, r.zones_);
  return r;
}

double Rendezvous::Score(std::uint64_t key_hash, std::uint32_t node) const {
  const std::uint64_t h = HashCombine(key_hash, seeds_[node]);
  const double u = (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
  TRI_DASSERT(u > 0.0 && u < 1.0);
  return -weights_[node] / std::log(u);
}

std::size_t Rendezvous::Choose(std::uint64_t key_hash, std::span<std::uint32_t> out,
                               std::span<double> scores) const {
  const std::size_t n = node_count();
  TRI_ASSERT(scores.size() >= n);
  const std::size_t wanted = std::min(out.size(), n);
  for (std::uint32_t i = 0; i < n; ++i)
    scores[i] = Score(key_hash, i);
  std::size_t chosen = 0;
  auto usable = [&](std::uint32_t node) {
    for (std::size_t k = 0; k < chosen; ++k) {
      if (out[k] == node) return false;
      if (chosen < zone_count_ && zones_[out[k]] == zones_[node]) return false;
    }
    return true;
  };
  // Greedy by score: equal to "best node of each zone, zones by their best"
  // while zones remain, then the best of the rest. Ties go to the lower index.
  while (chosen < wanted) {
    std::size_t best = n;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!usable(i)) continue;
      if (best == n || scores[i] > scores[best]) best = i;
    }
    TRI_ASSERT(best < n);
    out[chosen++] = static_cast<std::uint32_t>(best);
  }
  return chosen;
}

std::vector<std::uint32_t> Rendezvous::Choose(std::uint64_t key_hash, std::size_t count) const {
  std::vector<double> scores(node_count());
  std::vector<std::uint32_t> out(std::min(count, node_count()));
  Choose(key_hash, out, scores);
  return out;
}

}  // namespace tri::routing
