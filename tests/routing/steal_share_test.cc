// Sharing (steal_node.h): a node offers a large task to a faster peer instead
// of starting it; the peer keeps it or hands it back. One behaviour per test.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/rng.h"
#include "routing/steal_node.h"

namespace tri::routing {
namespace {

// Stealing off, so that the only messages are offers and declines.
StealOptions ShareOptions() {
  StealOptions o;
  o.max_inflight_steals = 0;
  o.share_min_run_ms = 50;
  o.share_speedup = 1.25;
  o.share_max_wait = 0.1;
  o.share_fanout = 8;
  o.max_share_offers = 3;
  return o;
}

StealNode MakeNode(const std::string& name, double speed, Rng* rng,
                   const StealOptions& options = ShareOptions()) {
  auto node = StealNode::Create(options, {name, "z", speed}, rng);
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  return std::move(*node);
}

StealMessage ShareTo(const std::string& to, const StealTask& task,
                     const std::string& from = "slow") {
  StealMessage m;
  m.kind = StealKind::kShare;
  m.from = from;
  m.to = to;
  m.steal_id = 7;
  m.tasks = {task};
  return m;
}

TEST(StealShare, LargeTaskIsOfferedToAFasterPeerInsteadOfStarted) {
  SeededRng rng(1);
  StealNode node = MakeNode("slow", 1.0, &rng);
  ASSERT_TRUE(node.SetPeers({{"same", "z", 1.0}, {"fast", "z", 4.0}}).ok());
  ASSERT_TRUE(node.Enqueue({1, 1000, false}, 0).ok());  // 1,000 ms here, 250 ms there
  ASSERT_TRUE(node.Enqueue({2, 10, false}, 0).ok());
  const auto next = node.TakeNext(0);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->id, 2u);
  const std::vector<StealMessage> out = node.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kShare);
  EXPECT_EQ(out[0].to, "fast");
  ASSERT_EQ(out[0].tasks.size(), 1u);
  EXPECT_EQ(out[0].tasks[0].id, 1u);
  EXPECT_EQ(out[0].tasks[0].offers, 1u);
  EXPECT_TRUE(node.queue().empty());  // the offer is a transfer
  EXPECT_EQ(node.stats().shares_sent, 1u);
}

TEST(StealShare, ShortUnestimatedOrPinnedTasksAreNotOffered) {
  SeededRng rng(1);
  StealNode node = MakeNode("slow", 1.0, &rng);
  ASSERT_TRUE(node.SetPeers({{"fast", "z", 4.0}}).ok());
  ASSERT_TRUE(node.Enqueue({1, 49, false}, 0).ok());   // runs 49 ms: below share_min_run_ms
  ASSERT_TRUE(node.Enqueue({2, 0, false}, 0).ok());    // no estimate
  ASSERT_TRUE(node.Enqueue({3, 5000, true}, 0).ok());  // pinned
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(node.TakeNext(0).has_value());
  EXPECT_TRUE(node.TakeMessages().empty());
}

TEST(StealShare, NoOfferWithoutAPeerFasterByTheSpeedup) {
  SeededRng rng(1);
  StealNode node = MakeNode("slow", 1.0, &rng);
  ASSERT_TRUE(node.SetPeers({{"a", "z", 1.2}, {"b", "z", 1.0}}).ok());
  ASSERT_TRUE(node.Enqueue({1, 1000, false}, 0).ok());
  EXPECT_EQ(node.TakeNext(0)->id, 1u);
  EXPECT_TRUE(node.TakeMessages().empty());
}

TEST(StealShare, OfferIsOnlyToTheFanoutFastestPeers) {
  SeededRng rng(3);
  StealOptions options = ShareOptions();
  options.share_fanout = 2;
  StealNode node = MakeNode("slow", 1.0, &rng, options);
  ASSERT_TRUE(node.SetPeers({{"f2", "z", 2.0}, {"f4", "z", 4.0}, {"f3", "z", 3.0}}).ok());
  for (TaskId id = 1; id <= 40; ++id)
    ASSERT_TRUE(node.Enqueue({id, 1000, false}, 0).ok());
  node.TakeNext(0);  // offers every task: each run here is 1,000 ms
  const std::vector<StealMessage> out = node.TakeMessages();
  ASSERT_EQ(out.size(), 40u);
  int to_f4 = 0;
  for (const StealMessage& m : out) {
    EXPECT_NE(m.to, "f2");
    to_f4 += m.to == "f4" ? 1 : 0;
  }
  EXPECT_GT(to_f4, 0);
  EXPECT_LT(to_f4, 40);  // spread at random over both
}

TEST(StealShare, AcceptedOfferRunsNextAndNoThiefTakesIt) {
  SeededRng rng(1);
  StealOptions options = ShareOptions();
  options.max_inflight_steals = 2;
  StealNode fast = MakeNode("fast", 4.0, &rng, options);
  ASSERT_TRUE(fast.SetPeers({{"slow", "z", 1.0}, {"thief", "z", 1.0}}).ok());
  ASSERT_TRUE(fast.Enqueue({1, 2000, false}, 0).ok());  // own work, larger
  ASSERT_TRUE(fast.Receive(ShareTo("fast", {9, 1000, false, 1}), 0).ok());
  EXPECT_EQ(fast.stats().shares_accepted, 1u);
  EXPECT_EQ(fast.queue().kept(), 1u);
  EXPECT_EQ(fast.queue().stealable(), 1u);
  StealMessage request;
  request.kind = StealKind::kRequest;
  request.from = "thief";
  request.to = "fast";
  request.steal_id = 1;
  request.max_tasks = 64;
  ASSERT_TRUE(fast.Receive(request, 0).ok());
  const std::vector<StealMessage> out = fast.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].kind, StealKind::kGrant);
  EXPECT_EQ(out[0].tasks[0].id, 1u);  // its own task, not the kept one
  EXPECT_EQ(fast.TakeNext(0)->id, 9u);
}

TEST(StealShare, OfferIsDeclinedWhenTheReceiverIsBusyWithLargeWork) {
  SeededRng rng(1);
  StealNode fast = MakeNode("fast", 4.0, &rng);
  ASSERT_TRUE(fast.SetPeers({{"slow", "z", 1.0}}).ok());
  ASSERT_TRUE(fast.Enqueue({1, 4000, false}, 0).ok());
  ASSERT_EQ(fast.TakeNext(0)->id, 1u);  // runs 1,000 ms from time 0
  // At 500 ms, 2,000 units of it are left: more than share_max_wait x 1,000.
  ASSERT_TRUE(fast.Receive(ShareTo("fast", {9, 1000, false, 1}), 500).ok());
  std::vector<StealMessage> out = fast.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kDecline);
  EXPECT_EQ(out[0].to, "slow");
  ASSERT_EQ(out[0].tasks.size(), 1u);
  EXPECT_EQ(out[0].tasks[0].id, 9u);
  EXPECT_TRUE(fast.queue().empty());
  // Once the running task is nearly done the same offer is kept.
  ASSERT_TRUE(fast.Receive(ShareTo("fast", {9, 1000, false, 1}), 980).ok());
  EXPECT_TRUE(fast.TakeMessages().empty());
  EXPECT_EQ(fast.queue().kept(), 1u);
}

TEST(StealShare, OfferIsDeclinedWhenTheSenderIsNearlyAsFast) {
  SeededRng rng(1);
  StealNode fast = MakeNode("fast", 4.0, &rng);
  ASSERT_TRUE(fast.SetPeers({{"slow", "z", 3.5}}).ok());
  ASSERT_TRUE(fast.Receive(ShareTo("fast", {9, 1000, false, 1}), 0).ok());
  const std::vector<StealMessage> out = fast.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kDecline);
}

TEST(StealShare, DeclinedTaskIsOfferedElsewhereThenRunsHomeAfterMaxOffers) {
  SeededRng rng(1);
  StealOptions options = ShareOptions();
  options.max_share_offers = 2;
  StealNode slow = MakeNode("slow", 1.0, &rng, options);
  ASSERT_TRUE(slow.SetPeers({{"a", "z", 4.0}, {"b", "z", 4.0}}).ok());
  ASSERT_TRUE(slow.Enqueue({1, 1000, false}, 0).ok());
  EXPECT_FALSE(slow.TakeNext(0).has_value());
  std::vector<StealMessage> out = slow.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  const std::string first = out[0].to;
  StealMessage decline = out[0];
  decline.kind = StealKind::kDecline;
  std::swap(decline.from, decline.to);
  ASSERT_TRUE(slow.Receive(decline, 1).ok());
  out = slow.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, StealKind::kShare);
  EXPECT_NE(out[0].to, first);  // the decliner cools down
  EXPECT_EQ(out[0].tasks[0].offers, 2u);
  decline = out[0];
  decline.kind = StealKind::kDecline;
  std::swap(decline.from, decline.to);
  ASSERT_TRUE(slow.Receive(decline, 2).ok());
  EXPECT_TRUE(slow.TakeMessages().empty());
  EXPECT_EQ(slow.stats().shares_returned, 2u);
  const auto task = slow.TakeNext(3);
  ASSERT_TRUE(task.has_value());  // offered max_share_offers times: it runs here
  EXPECT_EQ(task->id, 1u);
  EXPECT_TRUE(slow.TakeMessages().empty());
}

TEST(StealShare, UndeliverableOfferComesBackAndADeclineStaysWithItsSender) {
  SeededRng rng(1);
  StealNode slow = MakeNode("slow", 1.0, &rng);
  ASSERT_TRUE(slow.SetPeers({{"fast", "z", 4.0}}).ok());
  ASSERT_TRUE(slow.Enqueue({1, 1000, false}, 0).ok());
  slow.TakeNext(0);
  std::vector<StealMessage> out = slow.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  slow.Undeliverable(out[0], 5);
  EXPECT_EQ(slow.queue().size(), 1u);
  EXPECT_EQ(slow.queue().Snapshot()[0].offers, 1u);

  StealNode fast = MakeNode("fast", 4.0, &rng);
  ASSERT_TRUE(fast.SetPeers({{"slow", "z", 3.9}}).ok());
  ASSERT_TRUE(fast.Receive(ShareTo("fast", {9, 1000, false, 1}), 0).ok());
  out = fast.TakeMessages();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].kind, StealKind::kDecline);
  fast.Undeliverable(out[0], 5);
  ASSERT_EQ(fast.queue().size(), 1u);
  EXPECT_EQ(fast.queue().Snapshot()[0].id, 9u);
}

TEST(StealShare, MalformedOffersAreRefusedAndLeaveTheNodeUnchanged) {
  SeededRng rng(1);
  StealNode fast = MakeNode("fast", 4.0, &rng);
  ASSERT_TRUE(fast.SetPeers({{"slow", "z", 1.0}}).ok());
  StealMessage two = ShareTo("fast", {1, 1000, false, 1});
  two.tasks.push_back({2, 1000, false, 1});
  StealMessage pinned = ShareTo("fast", {1, 1000, true, 1});
  StealMessage never_offered = ShareTo("fast", {1, 1000, false, 0});
  StealMessage too_often = ShareTo("fast", {1, 1000, false, 4});
  for (const StealMessage& m : {two, pinned, never_offered, too_often}) {
    const Status st = fast.Receive(m, 0);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("share 7 from 'slow'"), std::string::npos) << st.message();
  }
  EXPECT_TRUE(fast.queue().empty());
  EXPECT_TRUE(fast.TakeMessages().empty());
}

TEST(StealShare, InvalidShareOptionsAndSpeedsAreRefusedWithTheirName) {
  SeededRng rng(1);
  const auto refused = [&](StealOptions o, const std::string& name) {
    auto node = StealNode::Create(o, {"n", "z"}, &rng);
    ASSERT_FALSE(node.ok());
    EXPECT_NE(node.status().message().find(name), std::string::npos) << node.status().message();
  };
  StealOptions o;
  o.share_speedup = 0.9;
  refused(o, "share_speedup");
  o = {};
  o.share_fanout = 0;
  refused(o, "share_fanout");
  o = {};
  o.max_share_offers = kMaxShareOffers + 1;
  refused(o, "max_share_offers");
  o = {};
  o.share_max_wait = -1;
  refused(o, "share_max_wait");
  EXPECT_FALSE(StealNode::Create({}, {"n", "z", 0.0}, &rng).ok());
  StealNode node = MakeNode("n", 1.0, &rng);
  const Status st = node.SetPeers({{"p", "z", -1.0}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("speed"), std::string::npos);
}

}  // namespace
}  // namespace tri::routing
