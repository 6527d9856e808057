#include "sim/network.h"

#include <fmt/format.h>

namespace tri::sim {

LinkTable::LinkTable(std::vector<SimNodeId> nodes) : nodes_(std::move(nodes)) {
  TRI_ASSERT(!nodes_.empty());
}

bool LinkTable::Connected(SimNodeId from, SimNodeId to) const {
  return from == to || cut_.count({from, to}) == 0;
}

void LinkTable::SetUp(SimNodeId node, bool up) {
  if (up) {
    down_.erase(node);
  } else {
    down_.insert(node);
  }
}

void LinkTable::PartitionSymmetric(const std::set<SimNodeId>& side) {
  for (SimNodeId a : nodes_) {
    for (SimNodeId b : nodes_) {
      if (side.count(a) != 0 && side.count(b) == 0) {
        Cut(a, b);
        Cut(b, a);
      }
    }
  }
}

void LinkTable::PartitionOneWay(const std::set<SimNodeId>& senders) {
  for (SimNodeId a : senders) {
    for (SimNodeId b : nodes_) {
      if (senders.count(b) == 0) Cut(a, b);
    }
  }
}

void LinkTable::PartitionBridge(SimNodeId bridge, const std::set<SimNodeId>& side_a) {
  TRI_ASSERT(side_a.count(bridge) == 0);
  for (SimNodeId a : nodes_) {
    for (SimNodeId b : nodes_) {
      if (a == bridge || b == bridge) continue;
      if ((side_a.count(a) != 0) != (side_a.count(b) != 0)) Cut(a, b);
    }
  }
}

void LinkTable::Heal() {
  cut_.clear();
}

std::string LinkTable::DescribeCuts() const {
  if (cut_.empty()) return "none";
  std::string out;
  for (const auto& [from, to] : cut_) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}->{}", from, to);
  }
  return out;
}

}  // namespace tri::sim
