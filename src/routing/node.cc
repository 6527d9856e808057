#include "routing/node.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

namespace tri::routing {

Status ValidateNodes(std::span<const Node> nodes, const NodeLimits& limits) {
  if (nodes.empty()) return InvalidArgument("routing: the node list is empty");
  if (nodes.size() > limits.max_nodes) {
    return InvalidArgument("routing: " + std::to_string(nodes.size()) + " nodes exceed max_nodes " +
                           std::to_string(limits.max_nodes));
  }
  std::vector<std::string_view> names;
  names.reserve(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const Node& node = nodes[i];
    const std::string where = "routing: node " + std::to_string(i) + " '" + node.name + "'";
    if (node.name.empty())
      return InvalidArgument("routing: node " + std::to_string(i) + " has no name");
    if (node.name.size() > limits.max_name_bytes) {
      return InvalidArgument("routing: node " + std::to_string(i) + ": name of " +
                             std::to_string(node.name.size()) + " bytes exceeds max_name_bytes " +
                             std::to_string(limits.max_name_bytes));
    }
    if (node.zone.size() > limits.max_zone_bytes) {
      return InvalidArgument(where + ": zone longer than max_zone_bytes " +
                             std::to_string(limits.max_zone_bytes));
    }
    if (node.capacity == 0) return InvalidArgument(where + ": capacity is 0");
    names.push_back(node.name);
  }
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) {
    return InvalidArgument("routing: node name '" + std::string(*dup) + "' appears twice");
  }
  return Status::Ok();
}

std::size_t ZoneIndexes(std::span<const Node> nodes, std::vector<std::uint32_t>& out) {
  std::unordered_map<std::string_view, std::uint32_t> index;
  out.clear();
  out.reserve(nodes.size());
  for (const Node& node : nodes) {
    const auto [it, inserted] =
        index.emplace(EffectiveZone(node), static_cast<std::uint32_t>(index.size()));
    out.push_back(it->second);
  }
  return index.size();
}

}  // namespace tri::routing
