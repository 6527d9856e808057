// Config::TestingBugs: each injected bug does exactly what its name says, and the
// core is correct with the knob off (the same schedule as the contrast). The
// simulator's ctests (sim_catches_core_*, sim_ci_catches_*) prove its checkers
// catch them. (learners_count_for_commit needs learners, which MiniCluster does
// not build; the simulator's membership fault adds them.)

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

// Node 2 learns of term 1 from a message that names no candidate, then node 1
// asks for its vote in term 1 (no pre-vote): the vote node 2 persists.
NodeId DurableVoteGrantedInTheSameTerm(bool bug) {
  MiniCluster c(3, [bug](Config& cfg) {
    cfg.pre_vote = false;
    cfg.testing_bugs.vote_not_persisted_same_term = bug;
  });
  Message bump;
  bump.type = MessageType::kHeartbeatResp;
  bump.from = 3;
  bump.to = 2;
  bump.term = 1;
  EXPECT_TRUE(c.node(2).Step(bump).ok());
  c.Flush(2);
  EXPECT_EQ(c.at(2).storage.hard_state().term, 1u);
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
  EXPECT_FALSE(c.in_flight.empty() || c.in_flight.front().reject);  // granted either way
  return c.at(2).storage.hard_state().vote;
}

TEST(RaftTestingBugs, AVoteInTheSameTermIsPersistedUnlessTheBugIsOn) {
  EXPECT_EQ(DurableVoteGrantedInTheSameTerm(false), 1u);
  EXPECT_EQ(DurableVoteGrantedInTheSameTerm(true), kNoNode);
}

// Node 1 leads term 1; node 3 hears of a leader of term 2, then gets node 1's append.
Index FollowerLastIndexAfterAStaleAppend(bool bug) {
  MiniCluster c(3, [bug](Config& cfg) { cfg.testing_bugs.accept_stale_term_append = bug; });
  c.Elect(1);
  Message newer;
  newer.type = MessageType::kHeartbeat;
  newer.from = 2;
  newer.to = 3;
  newer.term = 2;
  EXPECT_TRUE(c.node(3).Step(newer).ok());
  c.Flush(3);
  c.in_flight.clear();
  const Index before = c.at(3).storage.LastIndex();
  EXPECT_TRUE(c.node(1).Propose("stale").ok());
  c.Flush(1);
  for (Message& m : c.in_flight) {
    if (m.to == 3) {
      EXPECT_TRUE(c.node(3).Step(m).ok());
    }
  }
  c.Flush(3);
  return c.at(3).storage.LastIndex() - before;
}

TEST(RaftTestingBugs, AnAppendFromAnOlderTermIsAcceptedOnlyWithTheBug) {
  EXPECT_EQ(FollowerLastIndexAfterAStaleAppend(false), 0u);
  EXPECT_EQ(FollowerLastIndexAfterAStaleAppend(true), 1u);
}

// A healthy leader heartbeats every tick while node 2 ticks through three election
// timeouts; appends are never needed.
bool FollowerCampaignsUnderHeartbeats(bool bug) {
  MiniCluster c(3, [bug](Config& cfg) { cfg.testing_bugs.heartbeat_no_timer_reset = bug; });
  c.Elect(1);
  bool campaigned = false;
  for (int tick = 0; tick < 30; ++tick) {
    c.Tick(1, 1);
    c.Tick(2, 1);
    c.Tick(3, 1);
    c.Stabilize([&campaigned](const Message& m) {
      if (m.type == MessageType::kPreVote || m.type == MessageType::kVote) campaigned = true;
      return false;
    });
  }
  return campaigned;
}

TEST(RaftTestingBugs, HeartbeatsResetTheElectionTimerUnlessTheBugIsOn) {
  EXPECT_FALSE(FollowerCampaignsUnderHeartbeats(false));
  EXPECT_TRUE(FollowerCampaignsUnderHeartbeats(true));
}

// Node 2 wins term 2 with node 3's vote; its appends (its empty entry of term 2)
// are lost, heartbeats are not. Node 1 hears nothing. It is asked for a read.
std::size_t ReadsAnsweredBeforeTheTermsFirstCommit(bool bug) {
  MiniCluster c(3, [bug](Config& cfg) { cfg.testing_bugs.read_before_own_term_commit = bug; });
  c.Elect(1);
  c.Tick(2, 10);  // the followers' leases run out, so they vote again
  c.Tick(3, 10);
  c.FlushAll();
  c.in_flight.clear();  // their own campaigns go nowhere
  EXPECT_TRUE(c.node(2).Campaign().ok());
  auto network = [](const Message& m) { return m.to == 1 || m.type == MessageType::kApp; };
  c.Stabilize(network);
  EXPECT_EQ(c.node(2).role(), Role::kLeader);
  EXPECT_TRUE(c.node(2).ReadIndex("r").ok());
  c.Stabilize(network);
  EXPECT_EQ(c.node(2).status().hard_state.commit, 1u);  // index 2 (term 2) not committed
  return c.at(2).read_states.size();
}

TEST(RaftTestingBugs, ANewLeaderAnswersReadsBeforeCommittingInItsTermOnlyWithTheBug) {
  EXPECT_EQ(ReadsAnsweredBeforeTheTermsFirstCommit(false), 0u);
  EXPECT_EQ(ReadsAnsweredBeforeTheTermsFirstCommit(true), 1u);
}

TEST(RaftTestingBugs, AreOffByDefault) {
  Config c;
  EXPECT_FALSE(c.testing_bugs.count_duplicate_votes);
  EXPECT_FALSE(c.testing_bugs.commit_previous_term_by_count);
  EXPECT_FALSE(c.testing_bugs.vote_not_persisted_same_term);
  EXPECT_FALSE(c.testing_bugs.accept_stale_term_append);
  EXPECT_FALSE(c.testing_bugs.heartbeat_no_timer_reset);
  EXPECT_FALSE(c.testing_bugs.learners_count_for_commit);
  EXPECT_FALSE(c.testing_bugs.read_before_own_term_commit);
}

}  // namespace
}  // namespace tri::raft
