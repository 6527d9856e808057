// Leader leases (ReadOnlyOption::kLeaseBased): the voter-side rules a lease relies on,
// and the cases where the leader must stop trusting its lease. Each lease test runs
// the same schedule with kSafe as a contrast, where the vote is granted (harmless
// there: kSafe reads never trust a lease).

#include <gtest/gtest.h>

#include <algorithm>

#include "mini_cluster.h"
#include "raft/raw_node.h"

namespace tri::raft {
namespace {

using testing::MiniCluster;

void LeaseMode(Config& c) {
  c.read_only = ReadOnlyOption::kLeaseBased;
}
void SafeMode(Config& c) {
  c.read_only = ReadOnlyOption::kSafe;
}

bool Between(const Message& m, NodeId a, NodeId b) {
  return (m.from == a && m.to == b) || (m.from == b && m.to == a);
}

bool Answered(const std::vector<ReadState>& states, const std::string& context) {
  return std::any_of(states.begin(), states.end(),
                     [&](const ReadState& rs) { return rs.context == context; });
}

// Elects node 1 and completes one heartbeat round, so 2 and 3 acknowledged it.
void ElectAndHeartbeat(MiniCluster& c) {
  c.Elect(1);
  c.Tick(1, 1);
  c.Stabilize();
}

TEST(RaftLease, DefaultLeaseToleratesVoterClocksUpToNineSeventhsOfTheLeaders) {
  Config c;
  EXPECT_EQ(c.EffectiveLeaseTicks(), 7);
  EXPECT_DOUBLE_EQ(LeaseMaxClockRateRatio(c), 9.0 / 7.0);
  c.lease_ticks = 3;
  EXPECT_DOUBLE_EQ(LeaseMaxClockRateRatio(c), 3.0);
}

TEST(RaftLease, LeaderAnswersFromItsLeaseWithoutARoundTrip) {
  MiniCluster c(3, LeaseMode);
  ElectAndHeartbeat(c);
  ASSERT_TRUE(c.node(1).ReadIndex("leased").ok());
  c.Flush(1);
  EXPECT_TRUE(Answered(c.at(1).read_states, "leased"));
  EXPECT_TRUE(c.in_flight.empty());
}

// Node 3 acknowledged node 1's heartbeat, then crashed and came straight back. Node 2,
// cut off from node 1, times out and campaigns. Without the restart guard node 3
// (which no longer knows a leader) would vote, and node 2 would lead while node 1
// still answers reads from a lease that counts node 3's acknowledgement.
void RunRestartedVoterSchedule(MiniCluster& c) {
  ElectAndHeartbeat(c);
  c.at(3).Restart();
  auto cut_1_2 = [](const Message& m) { return Between(m, 1, 2); };
  c.Tick(2, 10);  // node 2's election timeout (no jitter here)
  c.Stabilize(cut_1_2);
}

TEST(RaftLease, RestartedVoterRefusesVotesForAnElectionTimeout) {
  MiniCluster c(3, LeaseMode);
  RunRestartedVoterSchedule(c);
  EXPECT_NE(c.node(2).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  // Once its own election timeout has passed since the restart, node 3 votes again.
  // (Node 3 then campaigns itself too; all we check is that it is free to.)
  c.Tick(3, 10);
  EXPECT_NE(c.node(3).role(), Role::kFollower);
}

TEST(RaftLease, ContrastSafeModeRestartedVoterVotesAtOnce) {
  MiniCluster c(3, SafeMode);
  RunRestartedVoterSchedule(c);
  EXPECT_EQ(c.node(2).role(), Role::kLeader);
}

// Node 3 acknowledged node 1, then learned a higher term from a message that names no
// leader, so it knows no leader and has no vote in that term. It must still not vote
// within an election timeout of hearing from node 1.
Message VoteRequestAfterTermBump(MiniCluster& c) {
  ElectAndHeartbeat(c);
  const Term next = c.node(3).term() + 1;
  Message bump;
  bump.type = MessageType::kAppResp;
  bump.from = 2;
  bump.to = 3;
  bump.term = next;
  EXPECT_TRUE(c.node(3).Step(bump).ok());
  EXPECT_EQ(c.node(3).term(), next);
  EXPECT_EQ(c.node(3).leader(), kNoNode);
  c.Flush(3);
  c.in_flight.clear();
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 2;
  vote.to = 3;
  vote.term = next;
  vote.index = c.node(3).status().last_index;
  vote.log_term = c.node(3).term() - 1;
  EXPECT_TRUE(c.node(3).Step(vote).ok());
  c.Flush(3);
  EXPECT_EQ(c.in_flight.size(), 1u);
  return c.in_flight.empty() ? Message{} : c.in_flight.front();
}

TEST(RaftLease, VoterHonoursTheLeaseAfterTheTermMovedOnWithoutALeader) {
  MiniCluster c(3, LeaseMode);
  const Message resp = VoteRequestAfterTermBump(c);
  EXPECT_EQ(resp.type, MessageType::kVoteResp);
  EXPECT_TRUE(resp.reject);
}

TEST(RaftLease, ContrastSafeModeGrantsTheVoteAfterTheTermMovedOn) {
  MiniCluster c(3, SafeMode);
  const Message resp = VoteRequestAfterTermBump(c);
  EXPECT_EQ(resp.type, MessageType::kVoteResp);
  EXPECT_FALSE(resp.reject);
}

TEST(RaftLease, CampaignIsRefusedWhileALeaderWasHeardRecently) {
  MiniCluster c(3, LeaseMode);
  ElectAndHeartbeat(c);
  EXPECT_EQ(c.node(2).Campaign().code(), StatusCode::kFailedPrecondition);
  c.Tick(2, 9);
  EXPECT_EQ(c.node(2).role(), Role::kFollower);
}

// A transfer campaign bypasses the voters' lease, so once the leader sent TimeoutNow
// its lease proves nothing: here node 2 wins with node 3's vote while node 1, which
// does not hear of it, still considers itself leader. Its reads take the safe path.
TEST(RaftLease, LeaderStopsTrustingItsLeaseOnceItSendsTimeoutNow) {
  MiniCluster c(3, LeaseMode);
  ElectAndHeartbeat(c);
  ASSERT_TRUE(c.node(1).TransferLeader(2).ok());
  c.Flush(1);
  ASSERT_EQ(c.in_flight.size(), 1u);
  ASSERT_EQ(c.in_flight.front().type, MessageType::kTimeoutNow);
  ASSERT_TRUE(c.node(1).ReadIndex("after-timeout-now").ok());
  c.Stabilize([](const Message& m) { return m.to == 1; });  // node 1 hears nothing back
  EXPECT_EQ(c.node(2).role(), Role::kLeader);
  EXPECT_EQ(c.node(1).role(), Role::kLeader);
  EXPECT_FALSE(Answered(c.at(1).read_states, "after-timeout-now"));
}

TEST(RaftLease, LeaseRunsOutAfterLeaseTicksWithoutAcknowledgements) {
  MiniCluster c(3, LeaseMode);
  ElectAndHeartbeat(c);
  auto isolate_1 = [](const Message& m) { return m.from == 1 || m.to == 1; };
  c.Tick(1, 6);  // 6 ticks after the acknowledged heartbeat was sent: still leased
  c.Stabilize(isolate_1);
  ASSERT_TRUE(c.node(1).ReadIndex("at-6").ok());
  c.Flush(1);
  EXPECT_TRUE(Answered(c.at(1).read_states, "at-6"));
  c.Tick(1, 1);  // 7 = lease_ticks: expired
  c.Stabilize(isolate_1);
  ASSERT_TRUE(c.node(1).ReadIndex("at-7").ok());
  c.Stabilize(isolate_1);
  EXPECT_FALSE(Answered(c.at(1).read_states, "at-7"));
}

}  // namespace
}  // namespace tri::raft
