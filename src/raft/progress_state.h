#pragma once

// ProgressState: the leader's replication state for one follower (etcd's
// tracker.StateType). Public because NodeStatus reports it; the state machine
// itself (Progress) is private to the core (raft/internal/progress.h).

#include <cstdint>
#include <string_view>

namespace tri::raft {

enum class ProgressState : std::uint8_t { kProbe = 0, kReplicate, kSnapshot };
std::string_view ProgressStateName(ProgressState s);

}  // namespace tri::raft
