#pragma once

// Node lists for the routing tests.

#include <string>
#include <vector>

#include "base/rng.h"
#include "routing/node.h"

namespace tri::routing::testing {

// `count` nodes named "n<i>", capacities in 1..max_capacity, zones "z<k>" for k < zones.
inline std::vector<Node> RandomNodes(SeededRng& rng, std::size_t count, std::size_t zones,
                                     std::uint32_t max_capacity) {
  std::vector<Node> nodes;
  for (std::size_t i = 0; i < count; ++i) {
    Node n;
    n.name = "n" + std::to_string(i);
    n.zone = "z" + std::to_string(rng.Uniform(zones));
    n.capacity = static_cast<std::uint32_t>(1 + rng.Uniform(max_capacity));
    nodes.push_back(n);
  }
  return nodes;
}

inline Node MakeNode(std::string name, std::string zone, std::uint32_t capacity = 1) {
  Node n;
  n.name = std::move(name);
  n.zone = std::move(zone);
  n.capacity = capacity;
  return n;
}

}  // namespace tri::routing::testing
