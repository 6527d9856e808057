#pragma once

// A few RawNodes with a hand-driven network, for tests that need exact control over
// which message reaches whom (lease and injected-bug tests). Nodes follow the Ready
// contract (persist, send, apply, Advance); messages wait in `in_flight` until a test
// delivers, duplicates or drops them.

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/rng.h"
#include "raft/raw_node.h"

namespace tri::raft::testing {

struct MiniNode {
  MemoryStorage storage;
  SeededRng rng{1};
  Config config;
  std::unique_ptr<RawNode> node;
  std::vector<ReadState> read_states;
  std::vector<Entry> committed;

  MiniNode(NodeId id, const std::set<NodeId>& voters, const std::function<void(Config&)>& tune)
      : storage(ConfState{voters, {}, {}}) {
    config.id = id;
    config.storage = &storage;
    config.rng = &rng;
    config.randomized_election_timeout = false;
    if (tune) tune(config);
    Restart();
  }
  // A crash loses nothing that was persisted: the node restarts from its storage.
  void Restart() {
    node.reset();
    auto r = RawNode::Create(config);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    node = std::move(r).value();
  }
};

class MiniCluster {
 public:
  explicit MiniCluster(int n, const std::function<void(Config&)>& tune = nullptr) {
    std::set<NodeId> voters;
    for (NodeId id = 1; id <= static_cast<NodeId>(n); ++id)
      voters.insert(id);
    for (NodeId id : voters)
      nodes_.emplace(id, std::make_unique<MiniNode>(id, voters, tune));
  }

  MiniNode& at(NodeId id) { return *nodes_.at(id); }
  RawNode& node(NodeId id) { return *nodes_.at(id)->node; }

  // Handles every pending Ready of `id`, queueing its messages.
  void Flush(NodeId id) {
    MiniNode& n = at(id);
    while (n.node->HasReady()) {
      Ready rd = n.node->GetReady();
      if (rd.snapshot) {
        EXPECT_TRUE(n.storage.ApplySnapshot(*rd.snapshot).ok());
      }
      EXPECT_TRUE(n.storage.Append(rd.entries).ok());
      if (rd.hard_state) n.storage.SetHardState(*rd.hard_state);
      for (Message& m : rd.messages)
        in_flight.push_back(std::move(m));
      for (Entry& e : rd.committed_entries)
        n.committed.push_back(std::move(e));
      for (ReadState& rs : rd.read_states)
        n.read_states.push_back(std::move(rs));
      n.node->Advance();
    }
  }
  void FlushAll() {
    for (auto& [id, n] : nodes_)
      Flush(id);
  }

  // Delivers queued messages (and what they cause) until the network is quiet.
  // Messages for which `drop` returns true are discarded.
  void Stabilize(const std::function<bool(const Message&)>& drop = nullptr) {
    for (int round = 0; round < 1000; ++round) {
      FlushAll();
      if (in_flight.empty()) return;
      std::vector<Message> batch;
      batch.swap(in_flight);
      for (Message& m : batch) {
        if (drop && drop(m)) continue;
        (void)node(m.to).Step(std::move(m));
      }
    }
    FAIL() << "the cluster did not stabilize";
  }

  // Elects `id` (pre-vote and votes delivered to everyone).
  void Elect(NodeId id) {
    ASSERT_TRUE(node(id).Campaign().ok());
    Stabilize();
    ASSERT_EQ(node(id).role(), Role::kLeader);
  }

  void Tick(NodeId id, int ticks) {
    for (int i = 0; i < ticks; ++i)
      node(id).Tick();
  }

  std::vector<Message> in_flight;

 private:
  std::map<NodeId, std::unique_ptr<MiniNode>> nodes_;
};

}  // namespace tri::raft::testing
