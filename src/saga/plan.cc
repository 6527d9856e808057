#include "saga/plan.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/assert.h"

namespace tri::saga {
namespace {

std::uint64_t Mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

Status CheckCodes(const std::vector<int>& codes, const std::string& where) {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] < 0 || codes[i] > kMaxRetryCode) {
      return InvalidArgument(where + ": code " + std::to_string(codes[i]) + " is outside [0, " +
                             std::to_string(kMaxRetryCode) + "]");
    }
    if (i > 0 && codes[i] <= codes[i - 1]) {
      return InvalidArgument(where + ": codes must be sorted and unique");
    }
  }
  return Status::Ok();
}

Status CheckRetry(const RetryPolicy& policy, StepIndex s, const char* field) {
  const std::string where = "step " + std::to_string(s) + " " + field + ": ";
  if (policy.max_attempts == 0 || policy.max_attempts > kMaxAttemptsLimit) {
    return InvalidArgument(where + "max_attempts must be in [1, " +
                           std::to_string(kMaxAttemptsLimit) + "]");
  }
  if (!(policy.jitter >= 0.0 && policy.jitter <= 1.0)) {
    return InvalidArgument(where + "jitter must be in [0, 1]");
  }
  if (policy.backoff.initial < Duration{0} || policy.backoff.max < Duration{0}) {
    return InvalidArgument(where + "backoff durations must not be negative");
  }
  if (!(policy.backoff.multiplier >= 1.0) || !std::isfinite(policy.backoff.multiplier)) {
    return InvalidArgument(where + "backoff multiplier must be >= 1");
  }
  TRI_RETURN_IF_ERROR(CheckCodes(policy.non_retryable, where + "non_retryable"));
  TRI_RETURN_IF_ERROR(CheckCodes(policy.retry_on, where + "retry_on"));
  return Status::Ok();
}

void SortCodes(std::vector<int>& codes) {
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
}

std::uint64_t MixCodes(std::uint64_t h, const std::vector<int>& codes) {
  h = Mix(h, codes.size());
  for (int code : codes)
    h = Mix(h, static_cast<std::uint64_t>(code));
  return h;
}

}  // namespace

Result<std::shared_ptr<const SagaPlan>> SagaPlan::Make(SagaGraph graph,
                                                       std::vector<StepPolicy> policies,
                                                       Duration deadline) {
  if (policies.size() != graph.size()) {
    return InvalidArgument("plan: " + std::to_string(policies.size()) + " policies for " +
                           std::to_string(graph.size()) + " steps");
  }
  if (deadline < Duration{0}) return InvalidArgument("plan: negative deadline");
  const StepIndex n = graph.size();
  for (StepIndex s = 0; s < n; ++s) {
    const StepPolicy& p = policies[s];
    if (p.timeout < Duration{0} || p.schedule_to_start < Duration{0} ||
        p.schedule_to_close < Duration{0}) {
      return InvalidArgument("step " + std::to_string(s) + ": negative timeout");
    }
    TRI_RETURN_IF_ERROR(CheckRetry(p.retry, s, "retry"));
    TRI_RETURN_IF_ERROR(CheckRetry(p.compensate_retry, s, "compensate retry"));
  }

  std::shared_ptr<SagaPlan> plan(new SagaPlan());
  plan->graph_ = std::move(graph);
  plan->deadline_ = deadline;
  plan->timeout_.reserve(n);
  plan->schedule_to_start_.reserve(n);
  plan->schedule_to_close_.reserve(n);
  plan->retry_.reserve(n);
  plan->compensate_retry_.reserve(n);
  plan->flags_.reserve(n);
  std::uint64_t h = Mix(0x5a6a, n);
  h = Mix(h, static_cast<std::uint64_t>(deadline.count()));
  for (StepIndex s = 0; s < n; ++s) {
    const StepPolicy& p = policies[s];
    plan->timeout_.push_back(p.timeout);
    plan->schedule_to_start_.push_back(p.schedule_to_start);
    plan->schedule_to_close_.push_back(p.schedule_to_close);
    plan->retry_.push_back(p.retry);
    plan->compensate_retry_.push_back(p.compensate_retry);
    std::uint8_t flags = 0;
    if (p.has_compensate) flags |= kFlagHasCompensate;
    if (p.compensate_when == CompensateWhen::kAttempted) flags |= kFlagAttempted;
    plan->flags_.push_back(flags);
    if (p.timeout > Duration{0} || p.schedule_to_start > Duration{0} ||
        p.schedule_to_close > Duration{0}) {
      plan->any_timeout_ = true;
    }
    h = Mix(h, static_cast<std::uint64_t>(p.timeout.count()));
    h = Mix(h, static_cast<std::uint64_t>(p.schedule_to_start.count()));
    h = Mix(h, static_cast<std::uint64_t>(p.schedule_to_close.count()));
    h = MixCodes(MixCodes(h, p.retry.non_retryable), p.retry.retry_on);
    h = MixCodes(MixCodes(h, p.compensate_retry.non_retryable), p.compensate_retry.retry_on);
    h = Mix(h, p.retry.max_attempts);
    h = Mix(h, p.compensate_retry.max_attempts);
    h = Mix(h, flags);
    h = Mix(h, plan->graph_.needs(s).size());
    for (StepIndex need : plan->graph_.needs(s))
      h = Mix(h, need);
  }
  plan->fingerprint_ = h;
  return std::shared_ptr<const SagaPlan>(std::move(plan));
}

Result<std::shared_ptr<const SagaPlan>> SagaPlan::Uniform(SagaGraph graph, const StepPolicy& policy,
                                                          Duration deadline) {
  std::vector<StepPolicy> policies(graph.size(), policy);
  return Make(std::move(graph), std::move(policies), deadline);
}

Result<std::shared_ptr<const SagaPlan>> SagaPlan::FromSpec(const SagaSpec& spec) {
  TRI_ASSIGN_OR_RETURN(SagaGraph graph, SagaGraph::FromSpec(spec));
  std::vector<StepPolicy> policies;
  policies.reserve(spec.steps.size());
  for (const StepSpec& step : spec.steps) {
    StepPolicy& policy = policies.emplace_back(StepPolicy{
        .timeout = step.timeout,
        .schedule_to_start = step.schedule_to_start,
        .schedule_to_close = step.schedule_to_close,
        .retry = step.retry,
        .compensate_retry = step.compensate_retry,
        .compensate_when = step.compensate_when,
        .has_compensate = step.compensate.has_value(),
    });
    for (RetryPolicy* retry : {&policy.retry, &policy.compensate_retry}) {
      SortCodes(retry->non_retryable);
      SortCodes(retry->retry_on);
    }
  }
  return Make(std::move(graph), std::move(policies), spec.deadline);
}

bool RetryAllowsCode(const RetryPolicy& policy, int code) {
  if (std::binary_search(policy.non_retryable.begin(), policy.non_retryable.end(), code)) {
    return false;
  }
  return policy.retry_on.empty() ||
         std::binary_search(policy.retry_on.begin(), policy.retry_on.end(), code);
}

Duration BackoffDelay(const RetryPolicy& policy, std::uint32_t failed_attempt, Rng& rng) {
  TRI_ASSERT(failed_attempt >= 1);
  const double initial_ns = static_cast<double>(policy.backoff.initial.count());
  const double max_ns = static_cast<double>(policy.backoff.max.count());
  double delay_ns =
      initial_ns * std::pow(policy.backoff.multiplier, static_cast<double>(failed_attempt - 1));
  if (!(delay_ns <= max_ns)) delay_ns = max_ns;  // also catches inf/nan
  if (policy.jitter > 0.0) {
    delay_ns *= 1.0 - policy.jitter + 2.0 * policy.jitter * rng.NextDouble();
  }
  if (delay_ns < 0.0) delay_ns = 0.0;
  if (delay_ns > 4e18) delay_ns = 4e18;  // keep fire times far from overflow
  const auto result = Duration{static_cast<std::int64_t>(std::llround(delay_ns))};
  TRI_ASSERT(result >= Duration{0});
  return result;
}

}  // namespace tri::saga
