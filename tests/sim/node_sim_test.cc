// The node simulation's checkers (each can fail) and whole runs of `tri-sim node`:
// a run is deterministic per seed, passes on a correct node, and catches a storage
// that acknowledges Sync before the data is durable.
#include "sim/node_sim.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/node_checkers.h"

namespace tri::sim {
namespace {

TEST(ReplicaAgreementTest, EqualHashesAtASharedIndexAgree) {
  ReplicaAgreement a;
  a.RecordStateHash(1, 10, 0xabc);
  a.RecordStateHash(2, 10, 0xabc);
  a.RecordStateHash(3, 11, 0xdef);  // a different index is not compared
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.hashes_compared(), 1u);
}

TEST(ReplicaAgreementTest, DifferentHashesAtTheSameAppliedIndexAreAViolation) {
  ReplicaAgreement a;
  a.RecordStateHash(1, 10, 0xabc);
  a.RecordStateHash(2, 10, 0xabd);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.violation().invariant, "state hash agreement");
  EXPECT_NE(a.violation().details.find("applied index 10"), std::string::npos)
      << a.violation().details;
}

TEST(ReplicaAgreementTest, ACommittedIndexHeldWithAnotherTermIsAViolation) {
  ReplicaAgreement a;
  a.RecordCommittedTerm(1, 5, 2);
  a.RecordCommittedTerm(2, 5, 2);
  a.RecordCommittedTerm(2, 6, 3);
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.highest_committed(), 6u);
  a.RecordCommittedTerm(3, 5, 4);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.violation().invariant, "committed log agreement");
  EXPECT_NE(a.violation().details.find("committed index 5"), std::string::npos);
}

TEST(ReplicaAgreementTest, TheFirstViolationIsKept) {
  ReplicaAgreement a;
  a.RecordCommittedTerm(1, 5, 2);
  a.RecordCommittedTerm(2, 5, 3);
  a.RecordStateHash(1, 10, 1);
  a.RecordStateHash(2, 10, 2);
  EXPECT_EQ(a.violation().invariant, "committed log agreement");
}

SerializableReadCheck::Reference Known(std::optional<std::string> value) {
  return {true, std::move(value)};
}

TEST(SerializableReadCheckTest, ReadsMatchingTheHistoryAtTheirRevisionPass) {
  SerializableReadCheck check;
  check.Record({1, "k0", 3, "7"});
  check.Record({2, "k0", 2, std::nullopt});
  check.Record({3, "k1", 1, "9"});  // unresolvable (compacted): skipped
  std::uint64_t checked = 0;
  const auto bad = check.Check(
      [](const std::string& key, std::int64_t revision) -> SerializableReadCheck::Reference {
        if (key == "k1") return {};
        return revision >= 3 ? Known("7") : Known(std::nullopt);
      },
      &checked);
  EXPECT_FALSE(bad.has_value()) << bad->details;
  EXPECT_EQ(checked, 2u);
}

TEST(SerializableReadCheckTest, AValueTheHistoryNeverHeldAtThatRevisionIsAViolation) {
  SerializableReadCheck check;
  check.Record({2, "k0", 3, "8"});
  std::uint64_t checked = 0;
  const auto bad =
      check.Check([](const std::string&, std::int64_t) { return Known("7"); }, &checked);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->invariant, "serializable reads");
  EXPECT_NE(bad->details.find("'8'"), std::string::npos) << bad->details;
}

TEST(NodeFaultSetTest, ParsesListsAllAndNoneAndRefusesUnknownNames) {
  auto all = NodeFaultSet::Parse("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->ToString(), "all");
  auto some = NodeFaultSet::Parse("crash,disk");
  ASSERT_TRUE(some.ok());
  EXPECT_TRUE(some->crash && some->disk && !some->loss);
  EXPECT_EQ(some->ToString(), "crash,disk");
  EXPECT_EQ(NodeFaultSet::Parse("none")->ToString(), "none");
  auto bad = NodeFaultSet::Parse("crash,meteor");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("meteor"), std::string::npos);
  EXPECT_FALSE(ParseNodeInjectedBug("nope").ok());
  EXPECT_EQ(*ParseNodeInjectedBug("ack-before-sync"), NodeInjectedBug::kAckBeforeSync);
}

NodeSimOptions SmallRun(std::uint64_t seed, int nodes) {
  NodeSimOptions o;
  o.seed = seed;
  o.nodes = nodes;
  o.ops = 150;
  o.faults = NodeFaultSet::All();
  return o;
}

TEST(NodeSimTest, ASeedReplaysExactly) {
  const NodeSimResult a = RunNodeSim(SmallRun(5, 3));
  const NodeSimResult b = RunNodeSim(SmallRun(5, 3));
  EXPECT_EQ(FormatNodeSimResult(SmallRun(5, 3), a), FormatNodeSimResult(SmallRun(5, 3), b));
  EXPECT_EQ(a.messages_sent, b.messages_sent);
}

TEST(NodeSimTest, CorrectNodesPassUnderEveryFault) {
  for (int nodes : {1, 3, 5}) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      const NodeSimResult r = RunNodeSim(SmallRun(seed, nodes));
      EXPECT_TRUE(r.ok) << FormatNodeSimResult(SmallRun(seed, nodes), r);
      EXPECT_GT(r.ops_completed, 0u);
    }
  }
}

TEST(NodeSimTest, AStorageThatAcknowledgesSyncBeforeWritingIsCaught) {
  // Seeds 1..6: later ones may also trip a raft core assertion (a follower acking
  // entries its restarted leader lost), which stops the process; the CLI runs
  // each seed in a child process and reports that too (ctest
  // sim_node_catches_ack_before_sync).
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 6; ++seed) {
    NodeSimOptions o = SmallRun(seed, 3);
    o.ops = 300;
    o.bug = NodeInjectedBug::kAckBeforeSync;
    const NodeSimResult r = RunNodeSim(o);
    if (!r.ok) {
      ++caught;
      EXPECT_NE(FormatNodeSimResult(o, r).find("replay: tri-sim node --seed"), std::string::npos);
    }
  }
  EXPECT_GT(caught, 0);
}

}  // namespace
}  // namespace tri::sim
