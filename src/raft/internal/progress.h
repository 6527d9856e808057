#pragma once

// Progress: the leader's view of one follower's log, with the flow-control
// state machine of etcd (probe -> replicate -> snapshot) and the bounded
// window of in-flight append messages. Private to the core.

#include <cstdint>
#include <deque>
#include <memory>

#include "raft/progress_state.h"
#include "raft/types.h"

namespace tri::raft {

// Append messages in flight to one follower, bounded in count and bytes.
class Inflights {
 public:
  Inflights(std::uint32_t max_msgs, std::uint64_t max_bytes)
      : max_msgs_(max_msgs), max_bytes_(max_bytes) {}
  // Records a message whose last entry is `last_index`. REQUIRES: !Full(), increasing.
  void Add(Index last_index, std::uint64_t bytes);
  // Frees every message with last index <= index (acknowledged).
  void FreeLE(Index index);
  void FreeFirstOne();
  bool Full() const { return items_.size() >= max_msgs_ || bytes_ >= max_bytes_; }
  std::uint32_t count() const { return static_cast<std::uint32_t>(items_.size()); }
  std::uint64_t bytes() const { return bytes_; }
  void Reset();

 private:
  struct Item {
    Index last_index;
    std::uint64_t bytes;
  };
  std::uint32_t max_msgs_;
  std::uint64_t max_bytes_;
  std::deque<Item> items_;
  std::uint64_t bytes_ = 0;
};

struct Progress {
  Progress(Index next_index, std::uint32_t max_inflight_msgs, std::uint64_t max_inflight_bytes)
      : next(next_index), inflights(max_inflight_msgs, max_inflight_bytes) {}

  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  // Probe: one append in flight until a response or heartbeat response.
  bool probe_sent = false;
  // Snapshot: the index of the snapshot being sent and the byte offset the follower
  // asked for next.
  Index pending_snapshot = 0;
  std::uint64_t snapshot_offset_bytes = 0;
  // Heartbeat round in which the last chunk was sent: a chunk still unanswered a round
  // later is presumed lost and resent.
  std::uint64_t snapshot_sent_round = 0;
  // The snapshot being sent (kept until the transfer ends, shared between followers).
  std::shared_ptr<const Snapshot> snapshot_in_transfer;
  bool recent_active = false;
  // Leader tick at which the newest heartbeat this follower acknowledged was sent.
  std::uint64_t lease_ack_tick = 0;
  bool is_learner = false;
  Inflights inflights;

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // The follower acknowledged up to n. Returns false if n is stale.
  bool MaybeUpdate(Index n);
  // Pipelining: we sent up to n, assume it arrives.
  void OptimisticUpdate(Index n) { next = n + 1; }
  // The follower rejected an append at `rejected`, suggesting `match_hint`. Returns
  // false if the rejection is stale.
  bool MaybeDecrTo(Index rejected, Index match_hint);
  bool IsPaused() const;
};

}  // namespace tri::raft
