#pragma once

// The environment behind the data-driven interaction tests: a cluster of
// RawNodes with MemoryStorage, a message network the script controls
// (deliver, drop, duplicate, reorder, partition) and text rendering of every
// Ready and message, so that a behaviour change shows up as a readable diff.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "datadriven/datadriven.h"
#include "raft/raw_node.h"
#include "raft/storage.h"

namespace tri::raft::testing {

std::string FormatEntry(const Entry& e);
std::string FormatMessage(const Message& m);
std::string FormatConfState(const ConfState& cs);

// One script command (the shared data-driven runner's).
using Command = datadriven::Command;

class InteractionEnv {
 public:
  InteractionEnv();
  // Runs one command and returns its output (lines ending in '\n').
  std::string Handle(const Command& cmd);

 private:
  struct Node {
    NodeId id = 0;
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<RawNode> raw;
    Config config;
    std::vector<std::string> applied;  // "index:data" of applied normal entries with data
    bool crashed = false;
  };

  void AddNodes(const Command& cmd, std::string& out);
  Node& Get(NodeId id);
  NodeId Arg(const Command& cmd, std::size_t i) const;
  std::vector<NodeId> IdsOrAll(const Command& cmd, std::size_t from) const;
  bool ProcessReady(Node& n, std::string& out, bool crash_before_persist = false);
  bool DeliverMsgs(NodeId to, std::string& out, int limit = -1);
  void Stabilize(const std::vector<NodeId>& ids, std::string& out);
  bool Connected(NodeId from, NodeId to) const;
  void Restart(Node& n);
  std::string StatusOf(Node& n) const;
  std::string RaftLog(Node& n) const;
  std::string RaftState() const;

  std::map<NodeId, Node> nodes_;
  std::vector<Message> network_;
  std::map<NodeId, int> partition_group_;  // empty = fully connected
  std::set<std::pair<NodeId, NodeId>> cut_links_;  // one-way cuts: (from, to)
  SeededRng rng_{42};
};

}  // namespace tri::raft::testing
