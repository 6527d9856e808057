#include "sim/raft_invariants.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

namespace tri::sim {
namespace {

using raft::Entry;
using raft::MemoryStorage;

Entry E(raft::Index index, raft::Term term, std::string data = "x") {
  return Entry{index, term, raft::EntryType::kNormal, std::move(data)};
}

// A storage holding `entries` (contiguous from index 1), observed as persisted.
MemoryStorage Persist(RaftInvariants& inv, raft::NodeId node, const std::vector<Entry>& entries) {
  MemoryStorage storage(raft::ConfState{{1, 2, 3}, {}, {}});
  EXPECT_TRUE(storage.Append(entries).ok());
  inv.ObservePersisted(node, entries, storage);
  return storage;
}

TEST(RaftInvariants, ADurableTermNeverGoesBackNorAVoteChangesWithinATerm) {
  RaftInvariants inv(3);
  inv.ObserveHardState(1, raft::HardState{2, 0, 0});
  inv.ObserveHardState(1, raft::HardState{2, 3, 0});  // first vote in term 2
  inv.ObserveHardState(1, raft::HardState{3, 0, 1});
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  inv.ObserveHardState(1, raft::HardState{2, 0, 1});
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "durable state regressed");

  RaftInvariants votes(3);
  votes.ObserveHardState(1, raft::HardState{2, 3, 0});
  votes.ObserveHardState(1, raft::HardState{2, 2, 0});
  ASSERT_FALSE(votes.ok());
  EXPECT_EQ(votes.violation().invariant, "durable state regressed");
}

TEST(RaftInvariants, OneLeaderPerTermIsFineTwoAreAViolation) {
  RaftInvariants inv(3);
  inv.ObserveLeader(1, 2);
  inv.ObserveLeader(1, 2);
  inv.ObserveLeader(2, 3);
  EXPECT_TRUE(inv.ok());
  inv.ObserveLeader(3, 3);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "election safety");
}

TEST(RaftInvariants, SameIndexAndTermWithDifferentDataBreaksLogMatching) {
  RaftInvariants inv(3);
  Persist(inv, 1, {E(1, 1, "a"), E(2, 1, "b")});
  Persist(inv, 2, {E(1, 1, "a"), E(2, 1, "b")});
  EXPECT_TRUE(inv.ok());
  Persist(inv, 3, {E(1, 1, "a"), E(2, 1, "other")});
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "log matching");
}

TEST(RaftInvariants, SameIndexAndTermAfterADifferentPrefixBreaksLogMatching) {
  RaftInvariants inv(3);
  Persist(inv, 1, {E(1, 1), E(2, 2)});
  Persist(inv, 2, {E(1, 2), E(2, 2)});  // index 2 term 2 after term 2, not term 1
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "log matching");
}

TEST(RaftInvariants, PairwiseLogCheckFindsDivergentPrefixes) {
  RaftInvariants quiet(3);
  MemoryStorage a(raft::ConfState{{1, 2}, {}, {}});
  MemoryStorage b(raft::ConfState{{1, 2}, {}, {}});
  ASSERT_TRUE(a.Append({E(1, 1, "a"), E(2, 2, "b")}).ok());
  ASSERT_TRUE(b.Append({E(1, 1, "z"), E(2, 2, "b")}).ok());
  quiet.CheckLogMatching({{1, &a}, {2, &b}});
  ASSERT_FALSE(quiet.ok());
  EXPECT_EQ(quiet.violation().invariant, "log matching");
}

TEST(RaftInvariants, ACommittedEntryReplacedLaterIsReported) {
  RaftInvariants inv(3);
  MemoryStorage s1 = Persist(inv, 1, {E(1, 1, "a"), E(2, 1, "b")});
  inv.ObserveCommit(1, 1, 2, s1, 2);
  EXPECT_EQ(inv.committed_index(), 2u);
  MemoryStorage s2 = Persist(inv, 2, {E(1, 1, "a"), E(2, 2, "c")});
  inv.ObserveCommit(2, 2, 2, s2, 2);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "no committed entry lost");
}

TEST(RaftInvariants, CommitIndexMustNotGoBackwardsEvenAcrossRestarts) {
  RaftInvariants inv(3);
  MemoryStorage s = Persist(inv, 1, {E(1, 1), E(2, 1)});
  inv.ObserveCommit(1, 1, 2, s, 2);
  inv.ObserveRestart(1, 2);
  EXPECT_TRUE(inv.ok());
  inv.ObserveRestart(1, 1);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "commit index regressed");
}

TEST(RaftInvariants, NewLeaderMissingAnEarlierCommittedEntryBreaksCompleteness) {
  RaftInvariants inv(3);
  MemoryStorage s1 = Persist(inv, 1, {E(1, 1), E(2, 1)});
  inv.ObserveCommit(1, 1, 2, s1, 2);  // committed in term 1
  MemoryStorage complete = Persist(inv, 2, {E(1, 1), E(2, 1), E(3, 2)});
  inv.CheckLeaderCompleteness(2, 2, complete);
  EXPECT_TRUE(inv.ok());
  MemoryStorage lacking(raft::ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(lacking.Append({E(1, 1)}).ok());
  inv.CheckLeaderCompleteness(3, 3, lacking);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "leader completeness");
}

TEST(RaftInvariants, EntriesCommittedInALaterTermAreNotDemandedOfAnOlderLeader) {
  // Figure 8: an entry committed in term 4 need not be in term 3's leader.
  RaftInvariants inv(3);
  MemoryStorage s1 = Persist(inv, 1, {E(1, 1), E(2, 2)});
  inv.ObserveCommit(1, 4, 2, s1, 2);
  MemoryStorage old_leader(raft::ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(old_leader.Append({E(1, 1)}).ok());
  inv.CheckLeaderCompleteness(3, 3, old_leader);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
}

TEST(RaftInvariants, ApplyingAnUncommittedOrDifferentEntryBreaksStateMachineSafety) {
  RaftInvariants inv(3);
  MemoryStorage s1 = Persist(inv, 1, {E(1, 1, "a")});
  inv.ObserveCommit(1, 1, 1, s1, 2);
  inv.ObserveApplied(1, E(1, 1, "a"));
  EXPECT_TRUE(inv.ok());
  RaftInvariants uncommitted(3);
  uncommitted.ObserveApplied(1, E(1, 1, "a"));
  ASSERT_FALSE(uncommitted.ok());
  EXPECT_EQ(uncommitted.violation().invariant, "state-machine safety");
  inv.ObserveApplied(2, E(1, 1, "b"));
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "state-machine safety");
}

TEST(RaftInvariants, ACommittedEntryOnFewerThanAQuorumOfDisksIsLost) {
  RaftInvariants inv(3);
  MemoryStorage s1 = Persist(inv, 1, {E(1, 1), E(2, 1)});
  MemoryStorage s2 = Persist(inv, 2, {E(1, 1), E(2, 1)});
  MemoryStorage s3 = Persist(inv, 3, {E(1, 1)});
  inv.ObserveCommit(1, 1, 2, s1, 2);
  inv.CheckCommittedDurable({{1, &s1}, {2, &s2}, {3, &s3}});
  EXPECT_TRUE(inv.ok());
  MemoryStorage s2_lost(raft::ConfState{{1, 2, 3}, {}, {}});
  ASSERT_TRUE(s2_lost.Append({E(1, 1)}).ok());
  inv.CheckCommittedDurable({{1, &s1}, {2, &s2_lost}, {3, &s3}});
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "no committed entry lost");
}

}  // namespace
}  // namespace tri::sim
