#pragma once

// The routing core's description of a cluster node (docs/routing.md). Routing
// never includes membership/: a driver fills these from the membership
// metadata (name, zone, capacity, load) and its own estimates (round trip,
// bandwidth) as seen from the node that makes the choice.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tri::routing {

struct Node {
  std::string name;                         // unique among the nodes of one choice, not empty
  std::string zone;                         // failure domain; empty is a zone of its own name
  std::uint32_t capacity = 1;               // relative capacity (weight), > 0
  std::uint32_t load = 0;                   // queued + running tasks
  std::uint32_t rtt_us = 0;                 // estimated round trip from the chooser
  std::uint64_t bandwidth_bytes_per_s = 0;  // estimated throughput from the chooser; 0 unknown
  bool local = false;                       // the chooser itself: no network between them
};

// The zone a node counts in when replicas are spread: its zone, or its own
// name when it has none (a node with no zone shares a failure domain with no one).
inline std::string_view EffectiveZone(const Node& node) {
  return node.zone.empty() ? std::string_view(node.name) : std::string_view(node.zone);
}

// Bounds on a node list; every placement structure checks them.
struct NodeLimits {
  std::size_t max_nodes = 65'536;
  std::size_t max_name_bytes = 256;
  std::size_t max_zone_bytes = 256;
};

// Ok when the list is non-empty, within `limits`, names are unique and
// non-empty and every capacity is > 0; otherwise an error naming the node.
Status ValidateNodes(std::span<const Node> nodes, const NodeLimits& limits = {});

// Zone indexes for `nodes` (by EffectiveZone, numbered in order of first
// appearance) and the number of zones.
std::size_t ZoneIndexes(std::span<const Node> nodes, std::vector<std::uint32_t>& out);

}  // namespace tri::routing
