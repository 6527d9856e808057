#include "sim/saga_workload.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/assert.h"

namespace tri::sim {
namespace {

// Failure codes a `fail` action reports. 408 (timed out) and 499 (cancelled)
// are left out: the orchestrator uses them itself, and the checkers' reading of
// a history stays unambiguous without them.
constexpr int kFailCodes[] = {409, 422, 500, 503};

std::string Ms(std::uint64_t ms) {
  return fmt::format("{}ms", ms);
}

// A forward action: noop, sleep or (with `fail_probability`) fail.
std::string ForwardAction(Rng& rng, double fail_probability) {
  if (rng.Bernoulli(fail_probability)) {
    return fmt::format("{{fail: {{code: {}, retryable: {}, after: {}}}}}",
                       kFailCodes[rng.Uniform(std::size(kFailCodes))],
                       rng.Bernoulli(0.6) ? "true" : "false", Ms(rng.Uniform(60)));
  }
  if (rng.Bernoulli(0.35)) return "noop";
  return fmt::format("{{sleep: {{duration: {}}}}}", Ms(1 + rng.Uniform(150)));
}

// A compensation: mostly noop or sleep; rarely a failure (compensation_failed).
std::string CompensateAction(Rng& rng) {
  const double dice = rng.NextDouble();
  if (dice < 0.04) {
    return fmt::format("{{fail: {{code: 500, retryable: {}, after: {}}}}}",
                       rng.Bernoulli(0.5) ? "true" : "false", Ms(rng.Uniform(30)));
  }
  if (dice < 0.5) return "noop";
  return fmt::format("{{sleep: {{duration: {}}}}}", Ms(1 + rng.Uniform(60)));
}

std::string RetryPolicy(Rng& rng, std::uint64_t max_attempts) {
  const std::uint64_t initial = 1 + rng.Uniform(50);
  return fmt::format(
      "{{max_attempts: {}, backoff: {{initial: {}, multiplier: {}, max: {}}}, jitter: {:.2f}}}",
      max_attempts, Ms(initial), 1 + rng.Uniform(3), Ms(initial + rng.Uniform(200)),
      rng.NextDouble() * 0.5);
}

}  // namespace

std::string GenerateSagaDocument(Rng& rng, std::string_view name, std::uint32_t max_steps,
                                 std::uint32_t* steps_out) {
  TRI_ASSERT(max_steps >= 1);
  const auto steps = static_cast<std::uint32_t>(1 + rng.Uniform(max_steps));
  if (steps_out != nullptr) *steps_out = steps;
  // Some sagas have no fail step (they can complete); the others have about
  // two, wherever they fall.
  const double fail_probability =
      rng.Bernoulli(0.4) ? 0.0 : std::min(0.5, 2.0 / static_cast<double>(steps));
  std::string doc = fmt::format("name: {}\n", name);
  if (rng.Bernoulli(0.25)) doc += fmt::format("deadline: {}\n", Ms(100 + rng.Uniform(3000)));
  doc += "steps:\n";
  for (std::uint32_t i = 0; i < steps; ++i) {
    doc += fmt::format("  - id: s{}\n", i);
    // Needs: up to three of the eight steps before it (depth grows with the
    // step count); some steps are roots of their own.
    if (i > 0 && !rng.Bernoulli(0.1)) {
      std::set<std::uint32_t> needs;
      const std::uint32_t window = std::min<std::uint32_t>(i, 8);
      const std::uint64_t count = 1 + rng.Uniform(3);
      for (std::uint64_t k = 0; k < count; ++k)
        needs.insert(i - 1 - static_cast<std::uint32_t>(rng.Uniform(window)));
      doc += "    needs: [";
      bool first = true;
      for (std::uint32_t n : needs) {
        doc += fmt::format("{}s{}", first ? "" : ", ", n);
        first = false;
      }
      doc += "]\n";
    }
    doc += fmt::format("    run: {}\n", ForwardAction(rng, fail_probability));
    if (rng.Bernoulli(0.2)) doc += fmt::format("    timeout: {}\n", Ms(20 + rng.Uniform(300)));
    if (rng.Bernoulli(0.4)) {
      doc += fmt::format("    retry: {}\n", RetryPolicy(rng, 2 + rng.Uniform(3)));
    }
    if (rng.Bernoulli(0.6)) {
      doc += fmt::format("    compensate: {}\n", CompensateAction(rng));
      if (rng.Bernoulli(0.3)) doc += "    compensate_when: attempted\n";
      if (rng.Bernoulli(0.3)) {
        doc += fmt::format("    compensate_retry: {}\n", RetryPolicy(rng, 1 + rng.Uniform(3)));
      }
    }
  }
  return doc;
}

std::vector<PlannedSaga> PlanSagaWorkload(const SagaWorkloadOptions& options, Rng& rng) {
  std::vector<PlannedSaga> plan;
  plan.reserve(options.sagas);
  for (std::uint32_t i = 0; i < options.sagas; ++i) {
    PlannedSaga p;
    p.id = fmt::format("saga-{}", i);
    p.name = fmt::format("sim{}", i);
    p.document = GenerateSagaDocument(rng, p.name, options.max_steps, &p.steps);
    p.registered = rng.Bernoulli(0.5);
    p.start_at_us = rng.Range(0, options.start_window_us);
    if (rng.Bernoulli(options.abort_probability)) {
      p.abort_at_us = p.start_at_us + rng.Range(0, options.max_abort_delay_us);
    }
    plan.push_back(std::move(p));
  }
  std::stable_sort(plan.begin(), plan.end(), [](const PlannedSaga& a, const PlannedSaga& b) {
    return a.start_at_us < b.start_at_us;
  });
  return plan;
}

}  // namespace tri::sim
