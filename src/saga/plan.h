#pragma once

// The immutable execution plan of a saga definition: its dependency graph plus
// the per-step policies the orchestrator needs (timeout, retry, compensation),
// in flat arrays indexed by StepIndex. Built once per definition and shared by
// every run of it through shared_ptr<const SagaPlan>; holds no strings, so the
// orchestrator's hot path never touches the spec.

#include <cstdint>
#include <memory>
#include <vector>

#include "base/result.h"
#include "base/rng.h"
#include "saga/graph.h"
#include "saga/spec.h"

namespace tri::saga {

// Upper bound on max_attempts of any retry policy (attempt numbers are packed
// into timer ids; a larger value is a plan error).
inline constexpr std::uint32_t kMaxAttemptsLimit = 1u << 20;

// Retry codes (exit statuses, HTTP statuses, the orchestrator's 408) are in
// [0, kMaxRetryCode].
inline constexpr int kMaxRetryCode = 999;

// What the orchestrator needs to know about one step.
struct StepPolicy {
  // start_to_close: one attempt from its real start (forward and compensation); 0 = none
  Duration timeout{0};
  // An attempt scheduled but not started within this is timed out (forward and
  // compensation); 0 = none
  Duration schedule_to_start{0};
  // The whole forward phase, from its first scheduling; 0 = none
  Duration schedule_to_close{0};
  RetryPolicy retry;  // forward attempts
  RetryPolicy compensate_retry{.max_attempts = 3};
  CompensateWhen compensate_when = CompensateWhen::kSucceeded;
  bool has_compensate = false;
};

class SagaPlan {
 public:
  // From a validated spec (graph built by SagaGraph::FromSpec). Errors: bad
  // ids, cycles, max_attempts of 0 or above kMaxAttemptsLimit, jitter outside
  // [0, 1], negative durations, retry codes outside [0, kMaxRetryCode]. The
  // retry code lists are sorted and deduplicated here.
  static Result<std::shared_ptr<const SagaPlan>> FromSpec(const SagaSpec& spec);

  // From an already built graph and one policy per step (tests, benchmarks).
  // Same checks as FromSpec; retry code lists must already be sorted and unique.
  static Result<std::shared_ptr<const SagaPlan>> Make(SagaGraph graph,
                                                      std::vector<StepPolicy> policies,
                                                      Duration deadline = Duration{0});

  // Convenience for tests and benchmarks: every step gets `policy`.
  static Result<std::shared_ptr<const SagaPlan>> Uniform(SagaGraph graph, const StepPolicy& policy,
                                                         Duration deadline = Duration{0});

  std::uint32_t size() const { return graph_.size(); }
  const SagaGraph& graph() const { return graph_; }
  Duration deadline() const { return deadline_; }  // 0 = none

  Duration timeout(StepIndex s) const { return timeout_[s]; }
  Duration schedule_to_start(StepIndex s) const { return schedule_to_start_[s]; }
  Duration schedule_to_close(StepIndex s) const { return schedule_to_close_[s]; }
  const RetryPolicy& retry(StepIndex s) const { return retry_[s]; }
  const RetryPolicy& compensate_retry(StepIndex s) const { return compensate_retry_[s]; }
  CompensateWhen compensate_when(StepIndex s) const {
    return (flags_[s] & kFlagAttempted) ? CompensateWhen::kAttempted : CompensateWhen::kSucceeded;
  }
  bool has_compensate(StepIndex s) const { return (flags_[s] & kFlagHasCompensate) != 0; }
  // False when no step has any of the three timeouts: lets the orchestrator
  // skip timer work.
  bool any_timeout() const { return any_timeout_; }

  // A cheap fingerprint of the plan's shape (step and edge counts, policies),
  // stored in serialized orchestrator state to catch restoring into the wrong plan.
  std::uint64_t fingerprint() const { return fingerprint_; }

 private:
  static constexpr std::uint8_t kFlagHasCompensate = 1;
  static constexpr std::uint8_t kFlagAttempted = 2;

  SagaPlan() = default;

  SagaGraph graph_;
  Duration deadline_{0};
  std::vector<Duration> timeout_;
  std::vector<Duration> schedule_to_start_;
  std::vector<Duration> schedule_to_close_;
  std::vector<RetryPolicy> retry_;
  std::vector<RetryPolicy> compensate_retry_;
  std::vector<std::uint8_t> flags_;
  bool any_timeout_ = false;
  std::uint64_t fingerprint_ = 0;
};

// Whether `policy` allows retrying a failure with `code`: not when the code is
// in non_retryable; when retry_on is not empty, only when the code is in it.
// (Attempts left and the action's own retryable flag are checked by the caller.)
bool RetryAllowsCode(const RetryPolicy& policy, int code);

// Delay before attempt `failed_attempt + 1`, after attempt `failed_attempt`
// (>= 1) failed: min(initial * multiplier^(failed_attempt-1), max) scaled by a
// uniform factor in [1 - jitter, 1 + jitter]. Draws from `rng` only when
// jitter > 0, so plans without jitter consume no randomness.
Duration BackoffDelay(const RetryPolicy& policy, std::uint32_t failed_attempt, Rng& rng);

}  // namespace tri::saga
