#include "raft/internal/quorum.h"

#include <algorithm>
#include <functional>

#include "base/assert.h"

namespace tri::raft {

Index QuorumCommittedIndex(std::vector<Index> match_indexes) {
  TRI_ASSERT(!match_indexes.empty());
  const std::size_t k = match_indexes.size() - MajoritySize(match_indexes.size());
  // After sorting ascending, the element at n - majority is reached by exactly a majority.
  std::nth_element(match_indexes.begin(), match_indexes.begin() + static_cast<std::ptrdiff_t>(k),
                   match_indexes.end());
  return match_indexes[k];
}

Index NaiveQuorumCommittedIndex(const std::vector<Index>& match_indexes) {
  Index best = 0;
  for (Index candidate : match_indexes) {
    std::size_t reached = 0;
    for (Index m : match_indexes) reached += m >= candidate ? 1 : 0;
    if (reached >= MajoritySize(match_indexes.size())) best = std::max(best, candidate);
  }
  return best;
}

VoteResult TallyVotes(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  std::size_t granted = 0, rejected = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  const std::size_t q = MajoritySize(voters.size());
  TRI_ASSERT(granted + rejected <= voters.size());
  if (granted >= q) return VoteResult::kWon;
  if (voters.size() - rejected < q) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace tri::raft
