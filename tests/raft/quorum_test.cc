// The quorum fast paths against their naive definitions (RapidCheck), and the
// vote tally's edge cases.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "raft/internal/quorum.h"

namespace tri::raft {
namespace {

RC_GTEST_PROP(QuorumCommittedIndex, MatchesNaiveDefinition, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 10);
  const auto matches = *rc::gen::container<std::vector<Index>>(n, rc::gen::inRange<Index>(0, 20));
  RC_ASSERT(QuorumCommittedIndex(matches) == NaiveQuorumCommittedIndex(matches));
}

RC_GTEST_PROP(QuorumCommittedIndex, IsReachedByAMajority, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 10);
  const auto matches = *rc::gen::container<std::vector<Index>>(n, rc::gen::inRange<Index>(0, 50));
  const Index c = QuorumCommittedIndex(matches);
  std::size_t reached = 0, beyond = 0;
  for (Index m : matches) {
    reached += m >= c;
    beyond += m > c;
  }
  RC_ASSERT(reached >= MajoritySize(n));
  RC_ASSERT(beyond < MajoritySize(n));  // c is the largest such index
}

TEST(QuorumCommittedIndex, SingleVoterIsItsOwnQuorum) {
  EXPECT_EQ(QuorumCommittedIndex({7}), 7u);
}

TEST(QuorumCommittedIndex, EvenClusterNeedsMoreThanHalf) {
  EXPECT_EQ(QuorumCommittedIndex({5, 5, 1, 1}), 1u);
  EXPECT_EQ(QuorumCommittedIndex({5, 5, 5, 1}), 5u);
}

RC_GTEST_PROP(TallyVotes, MatchesCounting, ()) {
  const auto n = *rc::gen::inRange<NodeId>(1, 8);
  std::set<NodeId> voters;
  std::map<NodeId, bool> votes;
  std::size_t yes = 0, no = 0;
  for (NodeId id = 1; id <= n; ++id) {
    voters.insert(id);
    const int answer = *rc::gen::inRange(0, 3);  // 0 missing, 1 yes, 2 no
    if (answer == 1) {
      votes[id] = true;
      ++yes;
    } else if (answer == 2) {
      votes[id] = false;
      ++no;
    }
  }
  // Votes of non-voters never count.
  votes[100] = true;
  const VoteResult r = TallyVotes(voters, votes);
  const std::size_t q = MajoritySize(n);
  if (yes >= q) {
    RC_ASSERT(r == VoteResult::kWon);
  } else if (n - no < q) {
    RC_ASSERT(r == VoteResult::kLost);
  } else {
    RC_ASSERT(r == VoteResult::kPending);
  }
}

}  // namespace
}  // namespace tri::raft
