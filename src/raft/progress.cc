#include "raft/internal/progress.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::raft {

std::string_view ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe: return "StateProbe";
    case ProgressState::kReplicate: return "StateReplicate";
    case ProgressState::kSnapshot: return "StateSnapshot";
  }
  return "StateUnknown";
}

void Inflights::Add(Index last_index, std::uint64_t bytes) {
  TRI_ASSERT_MSG(!Full(), "inflights window overflow");
  TRI_ASSERT(items_.empty() || items_.back().last_index < last_index);
  items_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(Index index) {
  while (!items_.empty() && items_.front().last_index <= index) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

void Inflights::FreeFirstOne() {
  if (items_.empty()) return;
  bytes_ -= items_.front().bytes;
  items_.pop_front();
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

void Progress::BecomeProbe() {
  if (state == ProgressState::kSnapshot) {
    next = std::max(match + 1, pending_snapshot + 1);
  } else {
    next = match + 1;
  }
  state = ProgressState::kProbe;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_offset_bytes = 0;
  snapshot_in_transfer.reset();
  inflights.Reset();
}

void Progress::BecomeReplicate() {
  state = ProgressState::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  snapshot_offset_bytes = 0;
  snapshot_in_transfer.reset();
  inflights.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  TRI_ASSERT(snapshot_index > 0);
  state = ProgressState::kSnapshot;
  pending_snapshot = snapshot_index;
  snapshot_offset_bytes = 0;
  probe_sent = false;
  inflights.Reset();
}

bool Progress::MaybeUpdate(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, n + 1);
  TRI_ASSERT(next > match);
  return updated;
}

bool Progress::MaybeDecrTo(Index rejected, Index match_hint) {
  if (state == ProgressState::kReplicate) {
    // A rejection at or below match is stale (reordered or duplicated).
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // Probe: only the answer to the last probe (at next - 1) counts.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  probe_sent = false;
  TRI_ASSERT(next >= 1);
  return true;
}

bool Progress::IsPaused() const {
  switch (state) {
    case ProgressState::kProbe: return probe_sent;
    case ProgressState::kReplicate: return inflights.Full();
    case ProgressState::kSnapshot: return true;
  }
  return true;
}

}  // namespace tri::raft
