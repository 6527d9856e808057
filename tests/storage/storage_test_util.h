#pragma once

// Helpers shared by the storage tests.

#include <set>
#include <string>
#include <vector>

#include "raft/types.h"

namespace tri::storage::testing {

inline raft::Entry MakeEntry(raft::Index index, raft::Term term, std::string data,
                             raft::EntryType type = raft::EntryType::kNormal) {
  return raft::Entry{index, term, type, std::move(data)};
}

// Entries from `first` with the given terms and data "e<index>t<term>".
inline std::vector<raft::Entry> Entries(raft::Index first, const std::vector<raft::Term>& terms) {
  std::vector<raft::Entry> out;
  for (raft::Term t : terms) {
    out.push_back(MakeEntry(first, t, "e" + std::to_string(first) + "t" + std::to_string(t)));
    ++first;
  }
  return out;
}

inline raft::ConfState Voters(std::set<raft::NodeId> voters) {
  return raft::ConfState{std::move(voters), {}, {}};
}

}  // namespace tri::storage::testing
