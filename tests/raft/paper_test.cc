// One test per rule of the Raft paper (section numbers in the names), driving
// RawNodes directly with hand-made messages.

#include <gtest/gtest.h>

#include <memory>

#include "base/rng.h"
#include "raft/raw_node.h"

namespace tri::raft {
namespace {

struct TestNode {
  explicit TestNode(NodeId id, std::set<NodeId> voters = {1, 2, 3}, bool randomized = false,
                    std::uint64_t seed = 1)
      : storage(ConfState{std::move(voters), {}, {}}), rng(seed) {
    config.id = id;
    config.storage = &storage;
    config.rng = &rng;
    config.randomized_election_timeout = randomized;
    config.pre_vote = false;
    config.check_quorum = false;
    auto r = RawNode::Create(config);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    node = std::move(r).value();
  }
  // Handles one Ready the way the contract says and returns its messages.
  std::vector<Message> Flush() {
    std::vector<Message> out;
    while (node->HasReady()) {
      Ready rd = node->GetReady();
      if (rd.snapshot) {
        EXPECT_TRUE(storage.ApplySnapshot(*rd.snapshot).ok());
      }
      EXPECT_TRUE(storage.Append(rd.entries).ok());
      if (rd.hard_state) storage.SetHardState(*rd.hard_state);
      for (Entry& e : rd.committed_entries) applied.push_back(std::move(e));
      for (Message& m : rd.messages) out.push_back(std::move(m));
      node->Advance();
    }
    return out;
  }
  MemoryStorage storage;
  SeededRng rng;
  Config config;
  std::unique_ptr<RawNode> node;
  std::vector<Entry> applied;
};

Message Msg(MessageType type, NodeId from, NodeId to, Term term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

TEST(RaftPaper, S5_1_NodeAdoptsAHigherTermAndBecomesFollower) {
  TestNode n(1);
  ASSERT_TRUE(n.node->Campaign().ok());
  EXPECT_EQ(n.node->role(), Role::kCandidate);
  Message app = Msg(MessageType::kApp, 2, 1, 5);
  ASSERT_TRUE(n.node->Step(app).ok());
  EXPECT_EQ(n.node->term(), 5u);
  EXPECT_EQ(n.node->role(), Role::kFollower);
  EXPECT_EQ(n.node->leader(), 2u);
}

TEST(RaftPaper, S5_1_StaleTermMessagesAreIgnored) {
  TestNode n(1);
  ASSERT_TRUE(n.node->Step(Msg(MessageType::kHeartbeat, 2, 1, 3)).ok());
  n.Flush();
  ASSERT_TRUE(n.node->Step(Msg(MessageType::kHeartbeat, 3, 1, 2)).ok());
  EXPECT_EQ(n.node->leader(), 2u);
  EXPECT_EQ(n.node->term(), 3u);
}

TEST(RaftPaper, S5_2_FollowerStartsElectionAfterElectionTimeout) {
  TestNode n(1);
  for (int i = 0; i < n.config.election_ticks - 1; ++i) n.node->Tick();
  EXPECT_EQ(n.node->role(), Role::kFollower);
  n.node->Tick();
  EXPECT_EQ(n.node->role(), Role::kCandidate);
  EXPECT_EQ(n.node->term(), 1u);
  auto msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 2u);  // a vote request to each peer, after the vote is persisted
  EXPECT_EQ(n.storage.hard_state().vote, 1u);
  for (const Message& m : msgs) EXPECT_EQ(m.type, MessageType::kVote);
}

TEST(RaftPaper, S5_2_ElectionTimeoutIsRandomizedInOneToTwoTimeouts) {
  std::set<int> seen;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    TestNode n(1, {1, 2, 3}, /*randomized=*/true, seed);
    int ticks = 0;
    while (n.node->role() == Role::kFollower && ticks < 100) {
      n.node->Tick();
      ++ticks;
    }
    EXPECT_GE(ticks, n.config.election_ticks);
    EXPECT_LT(ticks, 2 * n.config.election_ticks);
    seen.insert(ticks);
  }
  EXPECT_GT(seen.size(), 3u);  // actually randomized
}

TEST(RaftPaper, S5_2_VotesForAtMostOneCandidatePerTerm) {
  TestNode n(1);
  Message v2 = Msg(MessageType::kVote, 2, 1, 1);
  Message v3 = Msg(MessageType::kVote, 3, 1, 1);
  ASSERT_TRUE(n.node->Step(v2).ok());
  ASSERT_TRUE(n.node->Step(v3).ok());
  auto msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_FALSE(msgs[0].reject);
  EXPECT_TRUE(msgs[1].reject);
  // A repeated request from the same candidate is granted again (lost response).
  ASSERT_TRUE(n.node->Step(v2).ok());
  msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0].reject);
}

TEST(RaftPaper, S5_4_1_VoteDeniedToACandidateWithAStaleLog) {
  TestNode n(1);
  Message app = Msg(MessageType::kApp, 2, 1, 2);
  app.entries = {Entry{1, 2, EntryType::kNormal, "x"}};
  ASSERT_TRUE(n.node->Step(app).ok());
  n.Flush();
  // Candidate 3 at a higher term but with an empty log.
  Message vote = Msg(MessageType::kVote, 3, 1, 3);
  ASSERT_TRUE(n.node->Step(vote).ok());
  auto msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_TRUE(msgs[0].reject);
  // Same last term, shorter log: denied too; longer or equal: granted.
  vote = Msg(MessageType::kVote, 3, 1, 4);
  vote.log_term = 2;
  vote.index = 1;
  ASSERT_TRUE(n.node->Step(vote).ok());
  msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0].reject);
}

TEST(RaftPaper, S5_3_FollowerRejectsAppendWhosePrecedingEntryDoesNotMatch) {
  TestNode n(1);
  Message app = Msg(MessageType::kApp, 2, 1, 2);
  app.index = 1;
  app.log_term = 1;
  app.entries = {Entry{2, 2, EntryType::kNormal, "x"}};
  ASSERT_TRUE(n.node->Step(app).ok());
  auto msgs = n.Flush();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, MessageType::kAppResp);
  EXPECT_TRUE(msgs[0].reject);
  EXPECT_EQ(n.storage.LastIndex(), 0u);
}

TEST(RaftPaper, S5_3_FollowerDeletesConflictingSuffixButKeepsMatchingEntries) {
  TestNode n(1);
  Message app = Msg(MessageType::kApp, 2, 1, 1);
  app.entries = {Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"},
                 Entry{3, 1, EntryType::kNormal, "c"}};
  ASSERT_TRUE(n.node->Step(app).ok());
  n.Flush();
  Message fix = Msg(MessageType::kApp, 3, 1, 2);
  fix.index = 1;
  fix.log_term = 1;
  fix.entries = {Entry{2, 2, EntryType::kNormal, "B"}};
  ASSERT_TRUE(n.node->Step(fix).ok());
  n.Flush();
  EXPECT_EQ(n.storage.LastIndex(), 2u);
  EXPECT_EQ(*n.storage.TermAt(1), 1u);  // the matching entry is kept
  EXPECT_EQ(*n.storage.TermAt(2), 2u);
}

// Leader Completeness via Figure 8: entries of earlier terms are never committed by
// counting replicas, only through an entry of the current term.
TEST(RaftPaper, S5_4_2_LeaderDoesNotCommitAnOldTermEntryByCounting) {
  TestNode n(1);
  // 1 holds 1/1 (term 1) and becomes leader of term 2.
  Message app = Msg(MessageType::kApp, 2, 1, 1);
  app.entries = {Entry{1, 1, EntryType::kNormal, "old"}};
  ASSERT_TRUE(n.node->Step(app).ok());
  n.Flush();
  ASSERT_TRUE(n.node->Campaign().ok());
  n.Flush();
  Message grant = Msg(MessageType::kVoteResp, 2, 1, 2);
  ASSERT_TRUE(n.node->Step(grant).ok());
  ASSERT_EQ(n.node->role(), Role::kLeader);
  n.Flush();
  // Follower 2 acknowledges only index 1 (the term-1 entry): a majority holds it.
  Message ack = Msg(MessageType::kAppResp, 2, 1, 2);
  ack.index = 1;
  ASSERT_TRUE(n.node->Step(ack).ok());
  n.Flush();
  EXPECT_EQ(n.node->status().hard_state.commit, 0u);
  ack.index = 2;  // now the leader's term-2 entry: both commit
  ASSERT_TRUE(n.node->Step(ack).ok());
  n.Flush();
  EXPECT_EQ(n.node->status().hard_state.commit, 2u);
}

// etcd #14370: a one-voter leader reports an entry committed only after it is durable.
TEST(RaftPaper, OneVoterCommitsOnlyWhatAdvanceAcknowledgedAsPersisted) {
  TestNode n(1, {1});
  ASSERT_TRUE(n.node->Campaign().ok());
  n.Flush();
  ASSERT_EQ(n.node->role(), Role::kLeader);
  ASSERT_TRUE(n.node->Propose("x").ok());
  Ready rd = n.node->GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  EXPECT_FALSE(rd.hard_state.has_value() && rd.hard_state->commit >= rd.entries[0].index);
  ASSERT_TRUE(n.storage.Append(rd.entries).ok());
  n.node->Advance();
  ASSERT_TRUE(n.node->HasReady());
  rd = n.node->GetReady();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].data, "x");
  n.node->Advance();
}

TEST(RaftPaper, ProposalWithoutLeaderFailsWithUnavailable) {
  TestNode n(1);
  Status s = n.node->Propose("x");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
}

TEST(RaftPaper, ConfigValidationNamesTheProblem) {
  Config c;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  MemoryStorage s;
  c.id = 1;
  c.storage = &s;
  c.randomized_election_timeout = false;
  EXPECT_TRUE(c.Validate().ok());
  c.read_only = ReadOnlyOption::kLeaseBased;
  c.check_quorum = false;
  EXPECT_NE(c.Validate().message().find("check_quorum"), std::string::npos);
}

}  // namespace
}  // namespace tri::raft
