// Properties of the work-stealing policy over random schedules: a few nodes of
// random speeds, a transport that delivers, loses (requests and refusals only)
// or hands back (grants, offers and declines: messages that carry tasks)
// messages in random order, and random arrivals with random cost estimates,
// runs and ticks. After every step each task created is in exactly one place,
// pinned tasks never leave their home, and no task is offered more than
// max_share_offers times.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/rng.h"
#include "routing/steal_node.h"

namespace tri::routing {
namespace {

struct Place {
  int count = 0;
  std::string where;
};

RC_GTEST_PROP(StealProps, EveryTaskIsInExactlyOnePlaceAndPinnedTasksStayHome, ()) {
  const int node_count = *rc::gen::inRange(2, 6);
  const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  SeededRng rng(seed);
  StealOptions options;
  options.max_inflight_steals = *rc::gen::inRange(1u, 4u);
  options.max_tasks_per_steal = *rc::gen::inRange(1u, 8u);
  options.max_queued_tasks = *rc::gen::inRange(4u, 40u);
  options.steal_below_or_at = *rc::gen::inRange(0u, 3u);
  options.request_timeout_ms = *rc::gen::inRange(1, 30);
  options.refused_cooldown_ms = *rc::gen::inRange(0, 10);
  options.share_min_run_ms = *rc::gen::inRange(0, 60);  // 0: sharing off
  options.share_speedup = 1.0 + *rc::gen::inRange(0, 4) * 0.25;
  options.share_max_wait = *rc::gen::inRange(0, 8) * 0.25;
  options.share_fanout = *rc::gen::inRange(1u, 4u);
  options.max_share_offers = *rc::gen::inRange(0u, 4u);
  std::vector<StealNode> nodes;
  std::vector<StealPeer> all;
  for (int i = 0; i < node_count; ++i) {
    all.push_back({"n" + std::to_string(i), i % 2 == 0 ? "a" : "b", 0.5 * *rc::gen::inRange(1, 9)});
  }
  for (int i = 0; i < node_count; ++i) {
    auto node = StealNode::Create(options, all[i], &rng);
    RC_ASSERT(node.ok());
    std::vector<StealPeer> peers = all;
    peers.erase(peers.begin() + i);
    RC_ASSERT(node->SetPeers(peers).ok());
    nodes.push_back(std::move(*node));
  }
  std::vector<StealMessage> wire;
  std::map<TaskId, int> home;  // pinned tasks only
  std::map<TaskId, int> done;
  TaskId next_id = 1;
  std::int64_t now = 0;
  auto collect = [&] {
    for (StealNode& n : nodes) {
      for (StealMessage& m : n.TakeMessages())
        wire.push_back(std::move(m));
    }
  };
  auto index_of = [&](const std::string& name) { return std::stoi(name.substr(1)); };
  auto check = [&] {
    std::map<TaskId, Place> seen;
    for (int i = 0; i < node_count; ++i) {
      for (const StealTask& t : nodes[i].queue().Snapshot()) {
        ++seen[t.id].count;
        seen[t.id].where = nodes[i].name();
        if (t.pinned) RC_ASSERT(home.at(t.id) == i);
      }
      RC_ASSERT(nodes[i].inflight_steals() <= options.max_inflight_steals);
    }
    for (const StealMessage& m : wire) {
      RC_ASSERT(m.tasks.size() <= options.max_tasks_per_steal);
      if (m.kind == StealKind::kShare || m.kind == StealKind::kDecline) {
        RC_ASSERT(m.tasks.size() == 1u);
      }
      for (const StealTask& t : m.tasks) {
        RC_ASSERT(!t.pinned);
        RC_ASSERT(t.offers <= options.max_share_offers);
        ++seen[t.id].count;
      }
    }
    for (const auto& [id, runs] : done)
      seen[id].count += runs;
    RC_ASSERT(seen.size() == next_id - 1);
    for (const auto& [id, place] : seen)
      RC_ASSERT(place.count == 1);
  };

  const int steps = *rc::gen::inRange(1, 400);
  for (int step = 0; step < steps; ++step) {
    const int action = *rc::gen::inRange(0, 100);
    const int who = *rc::gen::inRange(0, node_count);
    if (action < 25) {
      const bool pinned = *rc::gen::inRange(0, 5) == 0;
      const std::uint64_t cost = *rc::gen::inRange(0, 200);
      if (nodes[who].Enqueue({next_id, cost, pinned}, now).ok()) {
        if (pinned) home[next_id] = who;
        ++next_id;
      }
    } else if (action < 40) {
      if (auto t = nodes[who].TakeNext(now)) {
        if (t->pinned) RC_ASSERT(home.at(t->id) == who);
        ++done[t->id];
      }
    } else if (action < 80 && !wire.empty()) {
      const std::size_t k = *rc::gen::inRange<std::size_t>(0, wire.size());
      StealMessage m = std::move(wire[k]);
      wire.erase(wire.begin() + static_cast<std::ptrdiff_t>(k));
      StealNode& to = nodes[index_of(m.to)];
      if (!to.Receive(m, now).ok()) {
        RC_ASSERT(m.kind == StealKind::kGrant);  // only a full queue refuses here
        nodes[index_of(m.from)].Undeliverable(m, now);
      }
    } else if (action < 88 && !wire.empty()) {
      // The transport gives up on a message: one that carries tasks goes back
      // to its sender.
      const std::size_t k = *rc::gen::inRange<std::size_t>(0, wire.size());
      StealMessage m = std::move(wire[k]);
      wire.erase(wire.begin() + static_cast<std::ptrdiff_t>(k));
      if (!m.tasks.empty() || *rc::gen::inRange(0, 2) == 0) {
        nodes[index_of(m.from)].Undeliverable(m, now);
      }  // else a request or refusal is lost silently
    } else {
      now += *rc::gen::inRange(0, 20);
      nodes[who].Tick(now);
    }
    collect();
    check();
  }
  // Drain: deliver everything, run everything; every task ran exactly once.
  auto grant_on_wire = [&] {
    for (const StealMessage& m : wire) {
      if (!m.tasks.empty()) return true;
    }
    return false;
  };
  for (int round = 0; round < 1000 && (grant_on_wire() || done.size() + 1 < next_id); ++round) {
    for (int i = 0; i < node_count; ++i) {
      while (auto t = nodes[i].TakeNext(now))
        ++done[t->id];
    }
    collect();
    std::vector<StealMessage> batch = std::move(wire);
    wire.clear();
    for (StealMessage& m : batch) {
      // An idle node starts what arrives at once (or a task could bounce
      // between idle nodes forever).
      StealNode& to = nodes[index_of(m.to)];
      if (!to.Receive(m, now).ok()) nodes[index_of(m.from)].Undeliverable(m, now);
      while (auto t = to.TakeNext(now))
        ++done[t->id];
    }
    now += 1;
    for (StealNode& n : nodes)
      n.Tick(now);
    collect();
    check();
  }
  RC_ASSERT(done.size() == next_id - 1);
  for (const auto& [id, runs] : done)
    RC_ASSERT(runs == 1);
}

}  // namespace
}  // namespace tri::routing
