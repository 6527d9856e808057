#pragma once

// AutoCompactor: etcd 3.4's automatic compaction (--auto-compaction-mode,
// --auto-compaction-retention), as a deterministic core the node's loop drives
// on the leader with its clock (docs/coordination.md, "Watches"). It decides
// when and to which revision; the node proposes the Compaction request, so
// every member compacts at the same log position.
//
// periodic, retention P: the revision is sampled every min(P, 1h)/10; the first
// compaction comes P after this member became leader, then one every
// min(P, 1h), each to the revision sampled P ago (etcd's compactor/periodic.go).
// revision, retention N: every revision_interval_ms (etcd: 5 minutes) the
// store is compacted to current - N when that is above 0 and new
// (compactor/revision.go). A member that is not the leader forgets its samples.

#include <cstdint>
#include <deque>
#include <optional>

namespace tri::server {

struct AutoCompactionOptions {
  enum class Mode { kOff, kPeriodic, kRevision };
  Mode mode = Mode::kOff;
  std::uint64_t period_ms = 0;           // periodic: the retention window
  std::int64_t retention_revisions = 0;  // revision: revisions kept
  std::uint64_t revision_interval_ms = 5 * 60 * 1000;
};

class AutoCompactor {
 public:
  explicit AutoCompactor(AutoCompactionOptions options);

  // Called after every loop round. Returns the revision to compact when a
  // compaction is due now (then none is due until Done is called).
  std::optional<std::int64_t> Due(std::uint64_t now_ms, bool is_leader,
                                  std::int64_t current_revision, std::int64_t compact_revision);
  // The proposed compaction completed: `applied` false (it did not reach the
  // log, or failed otherwise than as already compacted) retries at the next
  // sample.
  void Done(std::uint64_t now_ms, bool applied);

  const AutoCompactionOptions& options() const { return options_; }

 private:
  void Reset(std::uint64_t now_ms);
  std::uint64_t SampleIntervalMs() const;

  AutoCompactionOptions options_;
  bool leading_ = false;
  bool in_flight_ = false;
  std::uint64_t next_sample_ms_ = 0;
  std::uint64_t last_success_ms_ = 0;
  std::uint64_t wait_ms_ = 0;         // since last_success_ms_ before the next compaction
  std::deque<std::int64_t> samples_;  // periodic: oldest first
  std::int64_t proposed_ = 0;
  std::int64_t last_compacted_ = 0;  // revision mode: etcd's `prev`
};

}  // namespace tri::server
