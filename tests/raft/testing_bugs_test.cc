// Config::TestingBugs: each injected bug does exactly what its name says, and the
// core is correct with the knob off (the same schedule as the contrast). The
// simulator's ctests (sim_catches_core_*) prove its checkers catch them.

#include <gtest/gtest.h>

#include "mini_cluster.h"
#include "raft/raw_node.h"

namespace tri::raft {
namespace {

using testing::MiniCluster;

// Five voters, no pre-vote: node 1 campaigns and only node 2 answers, twice (a
// duplicated message). Two real votes of five.
Role RoleAfterDuplicatedVote(bool bug) {
  MiniCluster c(5, [bug](Config& cfg) {
    cfg.pre_vote = false;
    cfg.testing_bugs.count_duplicate_votes = bug;
  });
  EXPECT_TRUE(c.node(1).Campaign().ok());
  c.Flush(1);
  std::vector<Message> requests;
  requests.swap(c.in_flight);
  for (Message& m : requests) {
    if (m.to == 2) {
      EXPECT_TRUE(c.node(2).Step(m).ok());
    }
  }
  c.Flush(2);
  EXPECT_EQ(c.in_flight.size(), 1u);
  if (c.in_flight.size() != 1) return Role::kFollower;
  const Message grant = c.in_flight.front();
  EXPECT_EQ(grant.type, MessageType::kVoteResp);
  EXPECT_FALSE(grant.reject);
  c.in_flight.clear();
  EXPECT_TRUE(c.node(1).Step(grant).ok());
  EXPECT_TRUE(c.node(1).Step(grant).ok());
  return c.node(1).role();
}

TEST(RaftTestingBugs, DuplicateVoteIsCountedOnlyWithTheBug) {
  EXPECT_EQ(RoleAfterDuplicatedVote(false), Role::kCandidate);
  EXPECT_EQ(RoleAfterDuplicatedVote(true), Role::kLeader);
}

// Figure 8's first half: node 1 leads term 1 and appends "x" at index 2 that only it
// has; it loses leadership and wins term 3 (its log is the longest). Appends carry one
// entry each, so node 2 ends up storing index 2 (term 1) but not the new leader's
// empty entry at index 3: a quorum (1 and 2) stores an entry of an earlier term.
Index CommitAfterReplicatingAnOldEntry(bool bug) {
  MiniCluster c(3, [bug](Config& cfg) {
    cfg.max_msg_size_bytes = 1;  // one entry per append
    cfg.testing_bugs.commit_previous_term_by_count = bug;
  });
  c.Elect(1);
  EXPECT_TRUE(c.node(1).Propose("x").ok());
  c.Flush(1);
  c.in_flight.clear();  // "x" reaches nobody
  Message bump;         // node 1 learns of term 2 and steps down
  bump.type = MessageType::kAppResp;
  bump.from = 3;
  bump.to = 1;
  bump.term = 2;
  EXPECT_TRUE(c.node(1).Step(bump).ok());
  c.Tick(2, 10);  // the followers' leases run out, so they vote again
  c.Tick(3, 10);
  c.FlushAll();
  c.in_flight.clear();  // their own campaigns go nowhere
  EXPECT_TRUE(c.node(1).Campaign().ok());
  // Node 3 only takes part in the election. Node 2 gets the new leader's first append
  // (which it rejects: it lacks index 2), then index 2 alone; later appends holding
  // the empty entry of term 3 are lost.
  int term3_appends = 0;
  auto network = [&term3_appends](const Message& m) {
    if (m.to == 3) return m.type != MessageType::kPreVote && m.type != MessageType::kVote;
    if (m.type != MessageType::kApp) return false;
    for (const Entry& e : m.entries) {
      if (e.term == 3) return ++term3_appends > 1;
    }
    return false;
  };
  c.Stabilize(network);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).term(), 3u);
  EXPECT_EQ(c.at(2).storage.LastIndex(), 2u);
  return c.node(1).status().hard_state.commit;
}

TEST(RaftTestingBugs, PreviousTermEntryIsCommittedByCountOnlyWithTheBug) {
  EXPECT_EQ(CommitAfterReplicatingAnOldEntry(false), 1u);
  EXPECT_EQ(CommitAfterReplicatingAnOldEntry(true), 2u);
}

TEST(RaftTestingBugs, AreOffByDefault) {
  Config c;
  EXPECT_FALSE(c.testing_bugs.count_duplicate_votes);
  EXPECT_FALSE(c.testing_bugs.commit_previous_term_by_count);
}

}  // namespace
}  // namespace tri::raft
