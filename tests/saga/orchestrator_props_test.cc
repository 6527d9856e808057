// RapidCheck properties of the orchestrator over random DAGs (up to 200
// steps) with random durations and outcomes, run by the discrete-event
// SimDriver on a manual clock. Each case is built from one seed (printed on
// failure) so it replays exactly.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "saga/orchestrator.h"
#include "saga/orchestrator_sim.h"

namespace tri::saga {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using testing::AttemptScript;
using testing::SimDriver;

constexpr std::size_t kMaxSteps = 200;

std::uint64_t Hash(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct Scenario {
  std::uint64_t seed = 0;
  std::vector<std::vector<StepIndex>> needs;
  std::shared_ptr<const SagaPlan> plan;
  std::optional<Duration> abort_at;
  double p_fail = 0, p_hang = 0, p_comp_fail = 0;
  bool start_delays = false;  // attempts wait for an executor before they start

  // What an attempt does: a pure function of (seed, phase, step, attempt).
  AttemptScript Attempt(AttemptPhase phase, StepIndex s, std::uint32_t attempt) const {
    const std::uint64_t h = Hash(seed ^ Hash((static_cast<std::uint64_t>(phase) << 60) ^
                                             (static_cast<std::uint64_t>(s) << 24) ^ attempt));
    const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
    AttemptScript a;
    a.duration = microseconds(1 + (h % 5000));
    a.code = 500 + static_cast<int>((h >> 8) % 4);
    a.retryable = ((h >> 20) % 4) != 0;
    if (start_delays) {
      a.start_delay = microseconds((h >> 24) % 4000);
      // Some attempts never get an executor; schedule_to_start ends them.
      if (plan->schedule_to_start(s) > Duration{0} && (h >> 40) % 8 == 0) {
        a.result = AttemptScript::Result::kNeverStarts;
        return a;
      }
    }
    if (phase == AttemptPhase::kForward) {
      if (u < p_hang && plan->timeout(s) > Duration{0}) {
        a.result = AttemptScript::Result::kHang;
      } else if (u < p_hang + p_fail) {
        a.result = AttemptScript::Result::kFail;
      }
    } else if (u < p_comp_fail) {
      a.result = AttemptScript::Result::kFail;
    }
    return a;
  }
};

std::vector<std::vector<StepIndex>> RandomDag(SeededRng& rng, std::uint32_t n,
                                              std::uint32_t max_needs) {
  std::vector<std::vector<StepIndex>> needs(n);
  for (StepIndex s = 1; s < n; ++s) {
    const auto k = static_cast<std::uint32_t>(rng.Uniform(max_needs + 1));
    for (std::uint32_t i = 0; i < k; ++i) {
      needs[s].push_back(static_cast<StepIndex>(rng.Uniform(s)));
    }
    std::sort(needs[s].begin(), needs[s].end());
    needs[s].erase(std::unique(needs[s].begin(), needs[s].end()), needs[s].end());
  }
  return needs;
}

// Random policies, failures, deadline and abort.
Scenario RandomScenario(std::uint64_t seed, std::uint32_t n) {
  Scenario sc;
  sc.seed = seed;
  SeededRng rng(seed);
  sc.needs = RandomDag(rng, n, 4);
  std::vector<StepPolicy> policies(n);
  for (StepPolicy& p : policies) {
    // Longer than any scripted duration (< 5 ms): only hung attempts time out.
    if (rng.Bernoulli(0.3)) p.timeout = milliseconds(5 + rng.Uniform(10));
    p.retry.max_attempts = 1 + static_cast<std::uint32_t>(rng.Uniform(3));
    p.retry.backoff.initial = microseconds(rng.Uniform(3) * 500);
    p.retry.jitter = rng.Bernoulli(0.5) ? 0.5 : 0.0;
    p.has_compensate = rng.Bernoulli(0.7);
    p.compensate_when =
        rng.Bernoulli(0.5) ? CompensateWhen::kAttempted : CompensateWhen::kSucceeded;
    p.compensate_retry.max_attempts = 1 + static_cast<std::uint32_t>(rng.Uniform(3));
    p.compensate_retry.backoff.initial = microseconds(rng.Uniform(2) * 300);
    if (rng.Bernoulli(0.2)) p.schedule_to_start = milliseconds(2 + rng.Uniform(4));
    if (rng.Bernoulli(0.15)) p.schedule_to_close = milliseconds(5 + rng.Uniform(25));
    // Retry by code over the scripted codes (500..503) and the timeouts' 408.
    if (rng.Bernoulli(0.2)) p.retry.non_retryable = {500 + static_cast<int>(rng.Uniform(4))};
    if (rng.Bernoulli(0.2)) p.retry.retry_on = {408, 501, 503};
  }
  const Duration deadline = rng.Bernoulli(0.3) ? milliseconds(1 + rng.Uniform(40)) : Duration{0};
  if (rng.Bernoulli(0.2)) sc.abort_at = milliseconds(rng.Uniform(30));
  // Per-attempt rates scaled by size so that about half the sagas run to
  // completion and the rest stop at varied depths.
  sc.p_fail = rng.Bernoulli(0.5) ? 0.0 : rng.NextDouble() * 2.0 / n;
  sc.p_hang = rng.Bernoulli(0.5) ? 0.0 : rng.NextDouble() * 2.0 / n;
  sc.p_comp_fail = rng.NextDouble() * 0.15;
  sc.start_delays = rng.Bernoulli(0.5);
  auto graph = SagaGraph::FromNeeds(sc.needs);
  TRI_ASSERT(graph.ok());
  auto plan = SagaPlan::Make(std::move(*graph), std::move(policies), deadline);
  TRI_ASSERT(plan.ok());
  sc.plan = *plan;
  return sc;
}

std::unique_ptr<SimDriver> MakeDriver(const Scenario& sc) {
  auto d = std::make_unique<SimDriver>(
      sc.plan, sc.seed, [sc](AttemptPhase phase, StepIndex s, std::uint32_t attempt) {
        return sc.Attempt(phase, s, attempt);
      });
  d->Start();
  if (sc.abort_at) d->AbortAt(TimePoint{*sc.abort_at});
  return d;
}

// reach[s] has bit a set when s transitively needs a.
std::vector<std::bitset<kMaxSteps>> Reachability(const SagaGraph& g) {
  std::vector<std::bitset<kMaxSteps>> reach(g.size());
  for (StepIndex s : g.topo_order()) {
    for (StepIndex need : g.needs(s)) {
      reach[s].set(need);
      reach[s] |= reach[need];
    }
  }
  return reach;
}

// Checks every rule on a finished run; RC_ASSERT reports the first violation.
void CheckRun(const Scenario& sc, SimDriver& d) {
  Orchestrator& o = d.orch();
  const SagaGraph& g = sc.plan->graph();
  const StepIndex n = g.size();
  RC_ASSERT(o.finished());

  // Exactly one terminal state.
  int finished_commands = 0;
  for (const auto& rc : d.commands()) {
    if (rc.command.kind == CommandKind::kSagaFinished) {
      ++finished_commands;
      RC_ASSERT(rc.command.outcome == o.outcome());
    }
  }
  RC_ASSERT(finished_commands == 1);

  const auto& success_at = d.forward_success_input();
  const auto& comp_end_at = d.compensation_end_input();
  std::vector<std::uint32_t> comp_starts(n, 0);
  std::vector<std::uint64_t> first_comp_start(n, SimDriver::kNever);
  for (const auto& rc : d.commands()) {
    const Command& c = rc.command;
    if (c.kind == CommandKind::kCancelAttempt && c.phase == AttemptPhase::kForward) {
      // A step's cancel precedes its compensation within a batch.
      RC_ASSERT(first_comp_start[c.step] == SimDriver::kNever);
    }
    if (c.kind != CommandKind::kStartAttempt) continue;
    if (c.phase == AttemptPhase::kForward) {
      // No step starts before all its needs succeeded...
      for (StepIndex need : g.needs(c.step)) {
        auto it = success_at.find(need);
        RC_ASSERT(it != success_at.end());
        RC_ASSERT(it->second <= rc.input_index);
      }
      // ... nor after a failure, deadline or abort.
      RC_ASSERT(rc.input_index < d.stop_input());
    } else {
      RC_ASSERT(rc.input_index >= d.stop_input());
      RC_ASSERT(c.attempt == comp_starts[c.step] + 1);  // attempts consecutive, from 1
      ++comp_starts[c.step];
      if (c.attempt == 1) first_comp_start[c.step] = rc.input_index;
    }
  }

  // The compensation set, from how each step's forward phase ended.
  const auto reach = Reachability(g);
  bool any_comp_failed = false;
  bool any_in_set = false;
  for (StepIndex s = 0; s < n; ++s) {
    const StepState fwd = o.forward_state(s);
    RC_ASSERT(fwd != StepState::kRunning && fwd != StepState::kBackoff);
    const bool expected_in_set = d.stop_input() != SimDriver::kNever &&
                                 sc.plan->has_compensate(s) &&
                                 (fwd == StepState::kSucceeded ||
                                  (sc.plan->compensate_when(s) == CompensateWhen::kAttempted &&
                                   (fwd == StepState::kTimedOut || fwd == StepState::kCancelled)));
    RC_ASSERT(o.in_compensation_set(s) == expected_in_set);
    if (!expected_in_set) {
      RC_ASSERT(comp_starts[s] == 0u);
      continue;
    }
    any_in_set = true;
    // Compensated exactly once (retries count as one)...
    RC_ASSERT(comp_starts[s] >= 1u);
    RC_ASSERT(comp_starts[s] <= sc.plan->compensate_retry(s).max_attempts);
    RC_ASSERT(o.step_state(s) == StepState::kCompensated ||
              o.step_state(s) == StepState::kCompensationFailed);
    any_comp_failed |= o.step_state(s) == StepState::kCompensationFailed;
    // ... and never before the set's steps that depend on it.
    for (StepIndex c = 0; c < n; ++c) {
      if (!reach[c].test(s) || !o.in_compensation_set(c)) continue;
      auto it = comp_end_at.find(c);
      RC_ASSERT(it != comp_end_at.end());
      RC_ASSERT(it->second <= first_comp_start[s]);
    }
  }

  // Outcome is the one the rules prescribe.
  if (d.stop_input() == SimDriver::kNever) {
    RC_ASSERT(o.outcome() == SagaOutcome::kCompleted);
    for (StepIndex s = 0; s < n; ++s)
      RC_ASSERT(o.step_state(s) == StepState::kSucceeded);
  } else if (!any_in_set) {
    RC_ASSERT(o.outcome() == SagaOutcome::kFailed);
  } else if (any_comp_failed) {
    RC_ASSERT(o.outcome() == SagaOutcome::kCompensationFailed);
  } else {
    RC_ASSERT(o.outcome() == SagaOutcome::kCompensated);
  }

  // Statistics agree with the per-step states.
  const SagaStats stats = o.stats();
  std::uint32_t succeeded = 0, timed_out = 0, cancelled = 0, failed = 0, not_started = 0;
  for (StepIndex s = 0; s < n; ++s) {
    switch (o.forward_state(s)) {
      case StepState::kSucceeded:
        ++succeeded;
        break;
      case StepState::kTimedOut:
        ++timed_out;
        break;
      case StepState::kCancelled:
        ++cancelled;
        break;
      case StepState::kFailed:
        ++failed;
        break;
      case StepState::kPending:
        ++not_started;
        break;
      default:
        RC_FAIL("unexpected forward state");
    }
  }
  RC_ASSERT(stats.steps_succeeded == succeeded);
  RC_ASSERT(stats.steps_timed_out == timed_out);
  RC_ASSERT(stats.steps_cancelled == cancelled);
  RC_ASSERT(stats.steps_failed == failed);
  RC_ASSERT(stats.steps_not_started == not_started);
  RC_ASSERT(stats.max_parallelism <= n);
  RC_ASSERT(o.running() == 0u);
}

RC_GTEST_PROP(OrchestratorProperties, RandomSagasFollowTheRules, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto n = *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(1, kMaxSteps + 1));
  const Scenario sc = RandomScenario(seed, n);
  RC_LOG() << "seed " << seed << " steps " << n << "\n";
  auto d = MakeDriver(sc);
  d->Run(200'000);
  RC_TAG(SagaOutcomeName(d->orch().outcome()), StopCauseName(d->orch().stop_cause()));
  RC_CLASSIFY(n > 100, "more than 100 steps");
  RC_CLASSIFY(d->inputs() > 300, "more than 300 inputs");
  CheckRun(sc, *d);
}

RC_GTEST_PROP(OrchestratorProperties, SameSeedSameTraceAndRestoredStateContinuesIdentically, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto n = *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(1, kMaxSteps + 1));
  const Scenario sc = RandomScenario(seed, n);
  RC_LOG() << "seed " << seed << " steps " << n << "\n";
  auto a = MakeDriver(sc);
  auto b = MakeDriver(sc);
  a->Run(200'000);
  b->Run(200'000);
  RC_ASSERT(a->commands() == b->commands());
  RC_ASSERT(a->orch().trace() == b->orch().trace());
  RC_ASSERT(!a->orch().trace().empty());

  // Run halfway, fork through Serialize/Restore, continue both.
  const std::uint64_t half = std::max<std::uint64_t>(1, a->inputs() / 2);
  auto original = MakeDriver(sc);
  original->Run(half);
  auto forked = original->Fork();
  original->orch().TakeTrace();
  original->Run(200'000);
  forked->Run(200'000);
  RC_ASSERT(original->commands() == forked->commands());
  RC_ASSERT(original->orch().trace() == forked->orch().trace());
  RC_ASSERT(original->orch().Serialize() == forked->orch().Serialize());
  RC_ASSERT(original->commands() == a->commands());
}

// Restore's validation accepts every state the orchestrator can reach,
// restoring is a serialize fixed point, and PendingTimers names exactly the
// armed timers that still matter: checked after every input.
RC_GTEST_PROP(OrchestratorProperties, EveryReachableStateRestores, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto n = *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(1, 40));
  const Scenario sc = RandomScenario(seed, n);
  RC_LOG() << "seed " << seed << " steps " << n << "\n";
  auto d = MakeDriver(sc);
  SeededRng rng(1);
  for (int i = 0; i < 5'000; ++i) {
    const std::string bytes = d->orch().Serialize();
    Orchestrator restored(sc.plan, rng);
    const Status status = restored.Restore(bytes);
    if (!status.ok()) RC_FAIL("input " + std::to_string(d->inputs()) + ": " + status.ToString());
    RC_ASSERT(restored.Serialize() == bytes);
    // PendingTimers is exactly the set of armed timers that still matter:
    // those whose firing is not ignored as stale.
    std::vector<std::pair<TimerId, TimePoint>> live;
    for (const auto& [id, at] : d->QueuedTimers()) {
      Orchestrator probe(sc.plan, rng);
      RC_ASSERT(probe.Restore(bytes).ok());
      const std::uint64_t stale = probe.stats().stale_results_ignored;
      std::vector<Command> out;
      probe.OnTimerFired(id, d->now(), out);
      if (probe.stats().stale_results_ignored == stale) live.emplace_back(id, at);
    }
    std::vector<std::pair<TimerId, TimePoint>> pending;
    for (const Command& c : restored.PendingTimers()) {
      RC_ASSERT(c.kind == CommandKind::kArmTimer);
      pending.emplace_back(c.timer, c.fire_at);
    }
    std::sort(live.begin(), live.end());
    std::sort(pending.begin(), pending.end());
    RC_ASSERT(live == pending);
    if (!d->Step()) break;
  }
  RC_ASSERT(d->orch().finished());
}

RC_GTEST_PROP(OrchestratorProperties, AllSucceedingWallTimeEqualsCriticalPath, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto n = *rc::gen::resize(100, rc::gen::inRange<std::uint32_t>(1, kMaxSteps + 1));
  Scenario sc;
  sc.seed = seed;
  SeededRng rng(seed);
  sc.needs = RandomDag(rng, n, 8);
  auto graph = SagaGraph::FromNeeds(sc.needs);
  RC_ASSERT(graph.ok());
  auto plan = SagaPlan::Uniform(std::move(*graph), StepPolicy{.has_compensate = true});
  RC_ASSERT(plan.ok());
  sc.plan = *plan;
  auto d = MakeDriver(sc);
  d->Run();
  CheckRun(sc, *d);
  RC_ASSERT(d->orch().outcome() == SagaOutcome::kCompleted);
  // Independent longest path over the scripted durations (needs have lower indices).
  std::vector<Duration> finish(n, Duration{0});
  Duration longest{0};
  for (StepIndex s = 0; s < n; ++s) {
    Duration start{0};
    for (StepIndex need : sc.needs[s])
      start = std::max(start, finish[need]);
    finish[s] = start + sc.Attempt(AttemptPhase::kForward, s, 1).duration;
    longest = std::max(longest, finish[s]);
  }
  const SagaStats stats = d->orch().stats();
  RC_ASSERT(stats.wall == longest);
  RC_ASSERT(stats.critical_path == longest);
  RC_ASSERT(stats.avg_parallelism >= 1.0 - 1e-9);
  RC_ASSERT(stats.max_parallelism >= 1u);
}

}  // namespace
}  // namespace tri::saga
