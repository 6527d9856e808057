#include "raft/config.h"

namespace tri::raft {

Status Config::Validate() const {
  if (id == kNoNode) return InvalidArgument("raft config: id must be non-zero");
  if (heartbeat_ticks <= 0) return InvalidArgument("raft config: heartbeat_ticks must be > 0");
  if (election_ticks <= heartbeat_ticks) {
    return InvalidArgument("raft config: election_ticks must be greater than heartbeat_ticks");
  }
  if (storage == nullptr) return InvalidArgument("raft config: storage is required");
  if (randomized_election_timeout && rng == nullptr) {
    return InvalidArgument("raft config: rng is required for randomized election timeouts");
  }
  if (max_inflight_msgs == 0) return InvalidArgument("raft config: max_inflight_msgs must be > 0");
  if (max_inflight_bytes == 0)
    return InvalidArgument("raft config: max_inflight_bytes must be > 0");
  if (max_msg_size_bytes == 0 || max_entry_size_bytes == 0 || max_snapshot_chunk_bytes == 0) {
    return InvalidArgument("raft config: size limits must be > 0");
  }
  if (read_only == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return InvalidArgument("raft config: lease-based reads require check_quorum");
  }
  if (lease_ticks < 0 || lease_ticks >= election_ticks) {
    return InvalidArgument("raft config: lease_ticks must be in [0, election_ticks)");
  }
  return Status::Ok();
}

double LeaseMaxClockRateRatio(const Config& config) {
  return static_cast<double>(config.election_ticks - 1) /
         static_cast<double>(config.EffectiveLeaseTicks());
}

}  // namespace tri::raft
