#pragma once

// Majority quorum arithmetic, kept apart from the protocol so that property
// tests can check the fast paths against naive definitions.

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "raft/types.h"

namespace tri::raft {

// Size of a majority of n voters.
inline std::size_t MajoritySize(std::size_t n) { return n / 2 + 1; }

// The largest index that a majority of `match_indexes` (one per voter) has reached.
// Fast path: sort and pick. REQUIRES: non-empty.
Index QuorumCommittedIndex(std::vector<Index> match_indexes);
// Definition: largest i such that |{m >= i}| >= majority. For tests.
Index NaiveQuorumCommittedIndex(const std::vector<Index>& match_indexes);

enum class VoteResult : std::uint8_t { kPending = 0, kLost, kWon };
// Tallies votes of `voters` (granted true / rejected false / missing = not yet).
VoteResult TallyVotes(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes);

}  // namespace tri::raft
