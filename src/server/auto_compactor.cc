#include "server/auto_compactor.h"

#include <algorithm>

#include "base/assert.h"

namespace tri::server {
namespace {

constexpr std::uint64_t kHourMs = 60 * 60 * 1000;
// etcd's retryDivisor: samples per compaction interval.
constexpr std::uint64_t kSamplesPerInterval = 10;

}  // namespace

AutoCompactor::AutoCompactor(AutoCompactionOptions options) : options_(options) {
  TRI_ASSERT(options_.mode != AutoCompactionOptions::Mode::kPeriodic || options_.period_ms > 0);
  TRI_ASSERT(options_.mode != AutoCompactionOptions::Mode::kRevision ||
             (options_.retention_revisions > 0 && options_.revision_interval_ms > 0));
}

std::uint64_t AutoCompactor::SampleIntervalMs() const {
  if (options_.mode == AutoCompactionOptions::Mode::kRevision) return options_.revision_interval_ms;
  return std::max<std::uint64_t>(1, std::min(options_.period_ms, kHourMs) / kSamplesPerInterval);
}

void AutoCompactor::Reset(std::uint64_t now_ms) {
  samples_.clear();
  in_flight_ = false;
  last_success_ms_ = now_ms;
  wait_ms_ = options_.period_ms;
  next_sample_ms_ = now_ms + SampleIntervalMs();
}

std::optional<std::int64_t> AutoCompactor::Due(std::uint64_t now_ms, bool is_leader,
                                               std::int64_t current_revision,
                                               std::int64_t compact_revision) {
  if (options_.mode == AutoCompactionOptions::Mode::kOff) return std::nullopt;
  if (!is_leader) {
    leading_ = false;
    return std::nullopt;
  }
  if (!leading_) {
    leading_ = true;
    Reset(now_ms);
    if (options_.mode == AutoCompactionOptions::Mode::kPeriodic)
      samples_.push_back(current_revision);
    return std::nullopt;
  }
  if (in_flight_ || now_ms < next_sample_ms_) return std::nullopt;
  next_sample_ms_ = now_ms + SampleIntervalMs();

  std::int64_t revision = 0;
  if (options_.mode == AutoCompactionOptions::Mode::kRevision) {
    revision = current_revision - options_.retention_revisions;
    if (revision <= 0 || revision == last_compacted_) return std::nullopt;
  } else {
    samples_.push_back(current_revision);
    // samples_.front() is the revision about one period ago.
    const std::size_t kept = options_.period_ms / SampleIntervalMs() + 1;
    while (samples_.size() > kept)
      samples_.pop_front();
    if (now_ms - last_success_ms_ < wait_ms_) return std::nullopt;
    revision = samples_.front();
  }
  if (revision <= compact_revision) {
    // Nothing new to drop (etcd's compaction would answer ErrCompacted).
    last_compacted_ = revision;
    last_success_ms_ = now_ms;
    wait_ms_ = std::min(options_.period_ms, kHourMs);
    return std::nullopt;
  }
  TRI_ASSERT(revision <= current_revision);
  in_flight_ = true;
  proposed_ = revision;
  return revision;
}

void AutoCompactor::Done(std::uint64_t now_ms, bool applied) {
  if (!in_flight_) return;  // leadership changed meanwhile
  in_flight_ = false;
  if (!applied) return;
  last_compacted_ = proposed_;
  last_success_ms_ = now_ms;
  // After the first compaction, one every min(period, 1h) (etcd).
  wait_ms_ = std::min(options_.period_ms, kHourMs);
}

}  // namespace tri::server
