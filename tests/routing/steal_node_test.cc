#include "routing/steal_node.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/rng.h"

namespace tri::routing {
namespace {

StealNode MakeNode(const std::string& name, const std::string& zone, Rng* rng,
                   StealOptions options = {}) {
  auto node = StealNode::Create(options, {name, zone}, rng);
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  return std::move(*node);
}

std::vector<StealPeer> Peers(int count, const std::string& zone, int first = 0) {
  std::vector<StealPeer> peers;
  for (int i = first; i < first + count; ++i)
    peers.push_back({"n" + std::to_string(i), zone});
  return peers;
}

StealMessage RequestTo(const std::string& victim, std::uint32_t max_tasks,
                       std::uint64_t steal_id = 1) {
  StealMessage m;
  m.kind = StealKind::kRequest;
  m.from = "thief";
  m.to = victim;
  m.steal_id = steal_id;
  m.max_tasks = max_tasks;
  return m;
}

std::vector<TaskId> Ids(const std::vector<StealTask>& tasks) {
  std::vector<TaskId> ids;
  for (const StealTask& t : tasks)
    ids.push_back(t.id);
  return ids;
}

std::vector<TaskId> QueuedIds(const StealNode& node) {
  std::vector<TaskId> ids;
  for (const StealTask& t : node.queue().Snapshot())
    ids.push_back(t.id);
  return ids;
}

TEST(StealNode, VictimGrantsHalfItsStealableTasksRoundedUpFromTheColdEnd) {
  SeededRng rng(1);
  StealNode victim = MakeNode("victim", "z", &rng);
  for (TaskId id = 1; id <= 5; ++id)
    ASSERT_TRUE(victim.Enqueue({id, 0, false}, 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64), 0).ok());
  const std::vector<StealMessage> out = victim.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kGrant);
  EXPECT_EQ(out[0].to, "thief");
  EXPECT_EQ(Ids(out[0].tasks), (std::vector<TaskId>{3, 4, 5}));
  EXPECT_EQ(QueuedIds(victim), (std::vector<TaskId>{1, 2}));
  EXPECT_EQ(out[0].queued, 2u);
}

TEST(StealNode, PinnedTasksAreNeverGrantedAndRunFirst) {
  SeededRng rng(1);
  StealNode victim = MakeNode("victim", "z", &rng);
  ASSERT_TRUE(victim.Enqueue({1, 0, false}, 0).ok());
  ASSERT_TRUE(victim.Enqueue({2, 0, true}, 0).ok());
  ASSERT_TRUE(victim.Enqueue({3, 0, false}, 0).ok());
  ASSERT_TRUE(victim.Enqueue({4, 0, true}, 0).ok());
  EXPECT_EQ(victim.queue().stealable(), 2u);
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64, 1), 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64, 2), 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64, 3), 0).ok());
  const std::vector<StealMessage> out = victim.TakeMessages();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Ids(out[0].tasks), (std::vector<TaskId>{3}));
  EXPECT_EQ(Ids(out[1].tasks), (std::vector<TaskId>{1}));
  EXPECT_EQ(out[2].kind, StealKind::kRefuse);
  EXPECT_EQ(QueuedIds(victim), (std::vector<TaskId>{2, 4}));
}

TEST(StealQueue, OwnerRunsPinnedTasksFirstOrInArrivalOrderWhenAsked) {
  for (const bool pinned_first : {true, false}) {
    StealQueue queue(pinned_first);
    queue.PushBack({1, 0, false});
    queue.PushBack({2, 0, true});
    queue.PushBack({3, 0, false});
    queue.PushBack({4, 0, true});
    std::vector<TaskId> order;
    while (auto t = queue.PopFront())
      order.push_back(t->id);
    EXPECT_EQ(order,
              pinned_first ? (std::vector<TaskId>{2, 4, 1, 3}) : (std::vector<TaskId>{1, 2, 3, 4}));
  }
}

TEST(StealQueue, ThievesTakeTheNewestUnpinnedTasksInArrivalOrder) {
  StealQueue queue;
  for (TaskId id = 1; id <= 6; ++id)
    queue.PushBack({id, 0, id % 3 == 0});
  EXPECT_EQ(Ids(queue.TakeFromColdEnd(3)), (std::vector<TaskId>{2, 4, 5}));
  EXPECT_EQ(Ids(queue.Snapshot()), (std::vector<TaskId>{3, 6, 1}));
  EXPECT_EQ(Ids(queue.TakeFromColdEnd(5)), (std::vector<TaskId>{1}));
  EXPECT_TRUE(queue.TakeFromColdEnd(5).empty());
  EXPECT_EQ(queue.size(), 2u);
}

TEST(StealNode, GrantIsBoundedByMaxTasksPerStealAndByWhatTheThiefAskedFor) {
  SeededRng rng(1);
  StealOptions options;
  options.max_tasks_per_steal = 4;
  StealNode victim = MakeNode("victim", "z", &rng, options);
  for (TaskId id = 1; id <= 100; ++id)
    ASSERT_TRUE(victim.Enqueue({id, 0, false}, 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64, 1), 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 3, 2), 0).ok());
  const std::vector<StealMessage> out = victim.TakeMessages();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].tasks.size(), 4u);
  EXPECT_EQ(out[1].tasks.size(), 3u);
  EXPECT_EQ(victim.queue().size(), 93u);
}

TEST(StealNode, IdleNodeKeepsAtMostMaxInflightStealsToDistinctVictims) {
  SeededRng rng(7);
  StealOptions options;
  options.max_inflight_steals = 3;
  StealNode thief = MakeNode("thief", "z", &rng, options);
  ASSERT_TRUE(thief.SetPeers(Peers(50, "z")).ok());
  thief.Tick(0);
  std::vector<StealMessage> out = thief.TakeMessages();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(thief.inflight_steals(), 3u);
  EXPECT_NE(out[0].to, out[1].to);
  EXPECT_NE(out[1].to, out[2].to);
  EXPECT_NE(out[0].to, out[2].to);
  for (const StealMessage& m : out) {
    EXPECT_EQ(m.kind, StealKind::kRequest);
    EXPECT_EQ(m.max_tasks, options.max_tasks_per_steal);
  }
  thief.Tick(1);
  EXPECT_TRUE(thief.TakeMessages().empty());
}

TEST(StealNode, NodeWithQueuedWorkDoesNotSteal) {
  SeededRng rng(7);
  StealNode node = MakeNode("node", "z", &rng);
  ASSERT_TRUE(node.SetPeers(Peers(5, "z")).ok());
  ASSERT_TRUE(node.Enqueue({1, 0, false}, 0).ok());
  node.Tick(0);
  EXPECT_TRUE(node.TakeMessages().empty());
  EXPECT_EQ(node.NextDeadline(), StealNode::kNoDeadline);
  ASSERT_TRUE(node.TakeNext(1).has_value());  // now empty: it steals at once
  EXPECT_EQ(node.TakeMessages().size(), 2u);
}

TEST(StealNode, ZeroInflightStealsTurnsStealingOffButStillAnswers) {
  SeededRng rng(7);
  StealOptions options;
  options.max_inflight_steals = 0;
  StealNode node = MakeNode("n0", "z", &rng, options);
  ASSERT_TRUE(node.SetPeers(Peers(5, "z", 1)).ok());
  node.Tick(0);
  EXPECT_TRUE(node.TakeMessages().empty());
  ASSERT_TRUE(node.Enqueue({1, 0, false}, 0).ok());
  ASSERT_TRUE(node.Receive(RequestTo("n0", 8), 0).ok());
  const std::vector<StealMessage> out = node.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kGrant);
}

TEST(StealNode, SameZonePreferenceOfOneAsksOnlyItsOwnZone) {
  SeededRng rng(3);
  StealOptions options;
  options.same_zone_preference = 1.0;
  options.max_inflight_steals = 1;
  options.refused_cooldown_ms = 0;
  options.attempts_before_backoff = 1000;
  StealNode thief = MakeNode("thief", "a", &rng, options);
  std::vector<StealPeer> peers = Peers(5, "a");
  for (const StealPeer& p : Peers(50, "b", 100))
    peers.push_back(p);
  ASSERT_TRUE(thief.SetPeers(peers).ok());
  thief.Tick(0);
  for (int round = 0; round < 200; ++round) {
    std::vector<StealMessage> out = thief.TakeMessages();
    ASSERT_EQ(out.size(), 1u);
    const int victim = std::stoi(out[0].to.substr(1));
    EXPECT_LT(victim, 5) << "asked " << out[0].to << " in another zone";
    StealMessage refusal;
    refusal.kind = StealKind::kRefuse;
    refusal.from = out[0].to;
    refusal.to = "thief";
    refusal.steal_id = out[0].steal_id;
    ASSERT_TRUE(thief.Receive(refusal, round).ok());  // sends the next request
  }
}

TEST(StealNode, RefusedVictimIsNotAskedAgainDuringItsCooldown) {
  SeededRng rng(3);
  StealOptions options;
  options.max_inflight_steals = 1;
  options.refused_cooldown_ms = 100;
  options.attempts_before_backoff = 1000;
  StealNode thief = MakeNode("thief", "z", &rng, options);
  ASSERT_TRUE(thief.SetPeers(Peers(2, "z")).ok());
  thief.Tick(0);
  std::vector<StealMessage> out = thief.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  const std::string first = out[0].to;
  StealMessage refusal;
  refusal.kind = StealKind::kRefuse;
  refusal.from = first;
  refusal.to = "thief";
  refusal.steal_id = out[0].steal_id;
  ASSERT_TRUE(thief.Receive(refusal, 10).ok());
  out = thief.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].to, first);
  refusal.from = out[0].to;
  refusal.steal_id = out[0].steal_id;
  ASSERT_TRUE(thief.Receive(refusal, 20).ok());
  // Both cool down until 110 and 120: nothing is sent before.
  for (std::int64_t t = 21; t < 110; t += 7) {
    thief.Tick(t);
    EXPECT_TRUE(thief.TakeMessages().empty()) << "at " << t;
  }
  thief.Tick(120);
  EXPECT_EQ(thief.TakeMessages().size(), 1u);
}

TEST(StealNode, PeerKnownToBeEmptyIsNotAskedDuringTheCooldown) {
  SeededRng rng(3);
  StealOptions options;
  options.max_inflight_steals = 1;
  options.refused_cooldown_ms = 100;
  StealNode node = MakeNode("n0", "z", &rng, options);
  ASSERT_TRUE(node.SetPeers(Peers(2, "z", 1)).ok());  // n1, n2
  ASSERT_TRUE(node.Enqueue({1, 0, false}, 0).ok());
  // n1 asks for work with an empty queue of its own: it is known empty.
  StealMessage request = RequestTo("n0", 8);
  request.from = "n1";
  ASSERT_TRUE(node.Receive(request, 0).ok());
  // The grant empties n0, so it steals at once, and keeps trying while n2
  // refuses (cooldown 100 ms): never from n1 within n1's cooldown.
  std::vector<StealMessage> requests;
  for (std::int64_t t = 0; t < 100; t += 5) {
    if (t > 0) node.Tick(t);
    for (StealMessage& m : node.TakeMessages()) {
      if (m.kind != StealKind::kRequest) continue;
      StealMessage refusal;
      refusal.kind = StealKind::kRefuse;
      refusal.from = m.to;
      refusal.to = "n0";
      refusal.steal_id = m.steal_id;
      refusal.queued = 1;  // not empty-handed for lack of tasks: only the refusal cools it
      requests.push_back(std::move(m));
      ASSERT_TRUE(node.Receive(refusal, t).ok());
    }
  }
  ASSERT_FALSE(requests.empty());
  for (const StealMessage& m : requests)
    EXPECT_EQ(m.to, "n2") << "at steal " << m.steal_id;
}

TEST(StealNode, RepeatedRefusalsBackOffBeforeTheNextRequest) {
  SeededRng rng(3);
  StealOptions options;
  options.max_inflight_steals = 1;
  options.refused_cooldown_ms = 0;
  options.attempts_before_backoff = 3;
  options.backoff_ms = 40;
  StealNode thief = MakeNode("thief", "z", &rng, options);
  ASSERT_TRUE(thief.SetPeers(Peers(10, "z")).ok());
  thief.Tick(0);
  for (int i = 0; i < 3; ++i) {
    std::vector<StealMessage> out = thief.TakeMessages();
    ASSERT_EQ(out.size(), 1u) << "attempt " << i;
    StealMessage refusal;
    refusal.kind = StealKind::kRefuse;
    refusal.from = out[0].to;
    refusal.to = "thief";
    refusal.steal_id = out[0].steal_id;
    ASSERT_TRUE(thief.Receive(refusal, 5).ok());
  }
  EXPECT_TRUE(thief.TakeMessages().empty());
  EXPECT_EQ(thief.NextDeadline(), 45);
  thief.Tick(44);
  EXPECT_TRUE(thief.TakeMessages().empty());
  thief.Tick(45);
  EXPECT_EQ(thief.TakeMessages().size(), 1u);
}

TEST(StealNode, TimedOutRequestFreesItsSlotAndALateGrantIsStillAccepted) {
  SeededRng rng(3);
  StealOptions options;
  options.max_inflight_steals = 1;
  options.request_timeout_ms = 50;
  StealNode thief = MakeNode("thief", "z", &rng, options);
  ASSERT_TRUE(thief.SetPeers(Peers(3, "z")).ok());
  thief.Tick(0);
  std::vector<StealMessage> out = thief.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  const StealMessage first = out[0];
  EXPECT_EQ(thief.NextDeadline(), 50);
  thief.Tick(50);
  EXPECT_EQ(thief.stats().requests_timed_out, 1u);
  out = thief.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].steal_id, first.steal_id);
  StealMessage late;
  late.kind = StealKind::kGrant;
  late.from = first.to;
  late.to = "thief";
  late.steal_id = first.steal_id;
  late.tasks = {{9, 0, false}};
  ASSERT_TRUE(thief.Receive(late, 60).ok());
  EXPECT_EQ(QueuedIds(thief), (std::vector<TaskId>{9}));
  EXPECT_EQ(thief.inflight_steals(), 1u);  // the second request still waits
}

TEST(StealNode, UndeliverableGrantPutsItsTasksBackIntoTheVictimsQueue) {
  SeededRng rng(1);
  StealNode victim = MakeNode("victim", "z", &rng);
  for (TaskId id = 1; id <= 4; ++id)
    ASSERT_TRUE(victim.Enqueue({id, 0, false}, 0).ok());
  ASSERT_TRUE(victim.Receive(RequestTo("victim", 64), 0).ok());
  std::vector<StealMessage> out = victim.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(victim.queue().size(), 2u);
  victim.Undeliverable(out[0], 5);
  EXPECT_EQ(QueuedIds(victim), (std::vector<TaskId>{1, 2, 3, 4}));
  EXPECT_EQ(victim.stats().grants_returned, 1u);
}

TEST(StealNode, MalformedMessagesAreRefusedAndLeaveTheNodeUnchanged) {
  SeededRng rng(1);
  StealOptions options;
  options.max_queued_tasks = 3;
  StealNode node = MakeNode("node", "z", &rng, options);
  ASSERT_TRUE(node.Enqueue({1, 0, false}, 0).ok());

  StealMessage grant;
  grant.kind = StealKind::kGrant;
  grant.from = "other";
  grant.to = "node";
  grant.tasks = {{2, 0, true}};
  Status st = node.Receive(grant, 0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("pinned task 2"), std::string::npos) << st.message();

  grant.tasks = {{2, 0, false}, {3, 0, false}, {4, 0, false}};
  EXPECT_EQ(node.Receive(grant, 0).code(), StatusCode::kResourceExhausted);
  grant.tasks.clear();
  EXPECT_EQ(node.Receive(grant, 0).code(), StatusCode::kInvalidArgument);
  grant.tasks = {{2, 0, false}};
  grant.to = "someone-else";
  EXPECT_EQ(node.Receive(grant, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(node.Receive(RequestTo("node", 0), 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QueuedIds(node), (std::vector<TaskId>{1}));
  EXPECT_TRUE(node.TakeMessages().empty());

  ASSERT_TRUE(node.Enqueue({5, 0, false}, 0).ok());
  ASSERT_TRUE(node.Enqueue({6, 0, false}, 0).ok());
  EXPECT_EQ(node.Enqueue({7, 0, false}, 0).code(), StatusCode::kResourceExhausted);
}

TEST(StealNode, InvalidOptionsAndPeerListsAreRefusedWithTheirName) {
  SeededRng rng(1);
  StealOptions options;
  options.max_tasks_per_steal = 0;
  auto bad = StealNode::Create(options, {"n", "z"}, &rng);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("max_tasks_per_steal"), std::string::npos);
  options = {};
  options.same_zone_preference = 1.5;
  EXPECT_FALSE(StealNode::Create(options, {"n", "z"}, &rng).ok());
  EXPECT_FALSE(StealNode::Create({}, {"", "z"}, &rng).ok());

  StealNode node = MakeNode("n", "z", &rng);
  EXPECT_FALSE(node.SetPeers({{"a", "z"}, {"a", "y"}}).ok());
  EXPECT_FALSE(node.SetPeers({{"n", "z"}}).ok());
  EXPECT_FALSE(node.SetPeers({{"", "z"}}).ok());
}

}  // namespace
}  // namespace tri::routing
