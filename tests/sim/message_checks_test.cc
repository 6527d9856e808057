#include "sim/message_checks.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/raft_invariants.h"

namespace tri::sim {
namespace {

using raft::Entry;
using raft::HardState;
using raft::MemoryStorage;
using raft::Message;
using raft::MessageType;

std::vector<Entry> Entries(std::vector<raft::Term> terms) {
  std::vector<Entry> out;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    out.push_back(Entry{i + 1, terms[i], raft::EntryType::kNormal, "x"});
  }
  return out;
}

// A node's disk: `terms[i]` is the term of index i + 1; hard state `hs`.
MemoryStorage Disk(std::vector<raft::Term> terms, HardState hs) {
  MemoryStorage s(raft::ConfState{{1, 2, 3}, {}, {}});
  EXPECT_TRUE(s.Append(Entries(std::move(terms))).ok());
  s.SetHardState(hs);
  return s;
}

SenderView View(raft::NodeId id, const MemoryStorage& disk,
                raft::Role role = raft::Role::kFollower) {
  return SenderView{id, &disk, disk.hard_state(), role, disk.hard_state().term, false};
}

Message Msg(MessageType type, raft::NodeId from, raft::NodeId to, raft::Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

TEST(MessageChecks, AGrantedVoteMustBeDurableForThatCandidate) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage voted = Disk({1}, HardState{2, 3, 1});
  checks.CheckSend(View(1, voted), Msg(MessageType::kVoteResp, 1, 3, 2));
  // A node that has moved on to a later term no longer needs the old vote.
  const MemoryStorage later = Disk({1}, HardState{3, 0, 1});
  checks.CheckSend(View(2, later), Msg(MessageType::kVoteResp, 2, 3, 2));
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  const MemoryStorage no_vote = Disk({1}, HardState{2, 0, 1});
  checks.CheckSend(View(3, no_vote), Msg(MessageType::kVoteResp, 3, 1, 2));
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "send durability");
}

TEST(MessageChecks, NoMessageMayCarryATermItsSenderHasNotPersisted) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage disk = Disk({1}, HardState{1, 1, 1});
  // A pre-vote carries the next term without adopting it; a granted answer echoes it.
  checks.CheckSend(View(1, disk), Msg(MessageType::kPreVote, 1, 2, 2));
  checks.CheckSend(View(1, disk), Msg(MessageType::kPreVoteResp, 1, 2, 2));
  checks.CheckSend(View(1, disk), Msg(MessageType::kHeartbeatResp, 1, 2, 1));
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  checks.CheckSend(View(1, disk), Msg(MessageType::kHeartbeatResp, 1, 2, 2));
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "send durability");
}

TEST(MessageChecks, AnAcknowledgedIndexMustBeOnTheDurableLog) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage disk = Disk({1, 1}, HardState{1, 1, 0});
  checks.ObserveDelivered(2, Msg(MessageType::kApp, 1, 2, 1));
  Message ack = Msg(MessageType::kAppResp, 2, 1, 1);
  ack.index = 2;
  checks.CheckSend(View(2, disk), ack);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  ack.index = 3;
  checks.CheckSend(View(2, disk), ack);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "send durability");
}

TEST(MessageChecks, AcceptingAnAppendOfAnOlderTermIsCaughtByTheTermOfTheAnswer) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage disk = Disk({1, 1}, HardState{3, 0, 0});
  checks.ObserveDelivered(2, Msg(MessageType::kApp, 1, 2, 1));  // from the old leader
  // Index 0 tells the stale leader the newer term: the correct answer.
  checks.CheckSend(View(2, disk), Msg(MessageType::kAppResp, 2, 1, 3));
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  Message ack = Msg(MessageType::kAppResp, 2, 1, 3);
  ack.index = 2;
  checks.CheckSend(View(2, disk), ack);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "stale-term append accepted");
}

TEST(MessageChecks, SteppingAnAppendOfAnOlderTermChangesNothing) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  raft::NodeStatus before;
  before.hard_state = HardState{3, 0, 1};
  before.last_index = 2;
  before.soft_state.leader = 2;
  const Message stale = Msg(MessageType::kApp, 1, 3, 2);
  checks.CheckStaleAppendIgnored(3, stale, before, before);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  raft::NodeStatus after = before;
  after.last_index = 3;
  checks.CheckStaleAppendIgnored(3, stale, before, after);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "stale-term append accepted");

  RaftInvariants term_inv(3);
  MessageChecks term_checks(&term_inv);
  after = before;
  after.hard_state.term = 2;  // it went back to the old leader's term
  term_checks.CheckStaleAppendIgnored(3, stale, before, after);
  ASSERT_FALSE(term_inv.ok());
  EXPECT_EQ(term_inv.violation().invariant, "stale-term append accepted");
}

TEST(MessageChecks, ALeaderAnnouncesOnlyADurableCommitIndex) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage disk = Disk({1, 1}, HardState{1, 1, 1});
  Message app = Msg(MessageType::kApp, 1, 2, 1);
  app.commit = 1;
  app.entries = Entries({1, 1, 1});  // entries it has not persisted yet are fine
  checks.CheckSend(View(1, disk, raft::Role::kLeader), app);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  app.commit = 2;
  checks.CheckSend(View(1, disk, raft::Role::kLeader), app);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "send durability");
}

TEST(MessageChecks, AReadIsAnsweredOnlyAtAnEntryOfTheLeadersTerm) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  const MemoryStorage disk = Disk({1, 2}, HardState{2, 1, 2});
  Message resp = Msg(MessageType::kReadIndexResp, 1, 2, 2);
  resp.index = 2;
  checks.CheckSend(View(1, disk, raft::Role::kLeader), resp);
  SenderView sole = View(1, disk, raft::Role::kLeader);
  sole.sole_voter = true;  // its commit index is exact without an entry of its term
  resp.index = 1;
  checks.CheckSend(sole, resp);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  checks.CheckSend(View(1, disk, raft::Role::kLeader), resp);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "read before term commit");
}

TEST(MessageChecks, ANodeGrantsItsVoteToOneCandidatePerTermAcrossRestarts) {
  RaftInvariants inv(3);
  MessageChecks checks(&inv);
  checks.CheckSend(View(1, Disk({}, HardState{2, 2, 0})), Msg(MessageType::kVoteResp, 1, 2, 2));
  checks.CheckSend(View(1, Disk({}, HardState{2, 2, 0})), Msg(MessageType::kVoteResp, 1, 2, 2));
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  // Restarted with the vote forgotten, it votes again in term 2.
  checks.CheckSend(View(1, Disk({}, HardState{2, 3, 0})), Msg(MessageType::kVoteResp, 1, 3, 2));
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "one vote per term");
}

TEST(MessageChecks, ALeaderNeedsGrantedVotesFromAMajorityOfItsVoters) {
  RaftInvariants inv(5);
  MessageChecks checks(&inv);
  const std::set<raft::NodeId> voters{1, 2, 3, 4, 5};
  checks.CheckSend(View(2, Disk({}, HardState{4, 1, 0})), Msg(MessageType::kVoteResp, 2, 1, 4));
  // Its own vote and one granted vote (perhaps delivered twice) are not three of five.
  checks.CheckElected(1, 4, voters, voters);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "election quorum");

  RaftInvariants ok_inv(5);
  MessageChecks ok_checks(&ok_inv);
  for (raft::NodeId v : {2, 3}) {
    ok_checks.CheckSend(View(v, Disk({}, HardState{4, 1, 0})),
                        Msg(MessageType::kVoteResp, v, 1, 4));
  }
  ok_checks.CheckElected(1, 4, voters, voters);
  // A one-voter configuration elects itself without any message.
  ok_checks.CheckElected(7, 9, {7}, {7});
  EXPECT_TRUE(ok_inv.ok()) << ok_inv.violation().details;
}

TEST(LeaderChecks, ACommitNeedsAMajorityOfVotersLearnersDoNotCount) {
  const MemoryStorage leader = Disk({1, 2}, HardState{2, 1, 2});
  const MemoryStorage behind = Disk({1}, HardState{2, 1, 1});
  const MemoryStorage learner = Disk({1, 2}, HardState{2, 0, 2});
  const std::set<raft::NodeId> voters{1, 2, 3};
  std::map<raft::NodeId, const raft::Storage*> disks{
      {1, &leader}, {2, &behind}, {3, &behind}, {4, &learner}};
  RaftInvariants inv(3);
  inv.CheckLeaderCommit(1, 2, 1, 2, leader, voters, voters, disks);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "leader commit");

  RaftInvariants ok_inv(3);
  disks[3] = &leader;  // a second voter holds it
  ok_inv.CheckLeaderCommit(1, 2, 1, 2, leader, voters, voters, disks);
  EXPECT_TRUE(ok_inv.ok()) << ok_inv.violation().details;
}

TEST(LeaderChecks, ALeaderCommitsByCountingOnlyAnEntryOfItsOwnTerm) {
  const MemoryStorage leader = Disk({1, 1, 3}, HardState{3, 1, 1});
  const std::set<raft::NodeId> voters{1, 2, 3};
  const std::map<raft::NodeId, const raft::Storage*> disks{
      {1, &leader}, {2, &leader}, {3, &leader}};
  RaftInvariants inv(3);
  inv.CheckLeaderCommit(1, 3, 1, 3, leader, voters, voters, disks);  // covered by term 3
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  RaftInvariants figure8(3);
  figure8.CheckLeaderCommit(1, 3, 1, 2, leader, voters, voters, disks);
  ASSERT_FALSE(figure8.ok());
  EXPECT_EQ(figure8.violation().invariant, "leader commit");
}

TEST(LeaderChecks, ALeaderHandsOutReadsOnlyAfterCommittingInItsTerm) {
  const MemoryStorage leader = Disk({1, 1, 3}, HardState{3, 1, 2});
  RaftInvariants inv(3);
  inv.CheckLeaderRead(1, 3, 3, leader, /*sole_voter=*/false);
  inv.CheckLeaderRead(1, 3, 2, leader, /*sole_voter=*/true);
  EXPECT_TRUE(inv.ok()) << inv.violation().details;
  inv.CheckLeaderRead(1, 3, 2, leader, /*sole_voter=*/false);
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.violation().invariant, "read before term commit");
}

}  // namespace
}  // namespace tri::sim
