// Data-driven orchestrator tests: every script in tests/saga/testdata/*.txt
// through the shared runner (tests/datadriven/datadriven.h; TRI_REWRITE=1
// rewrites the expected output). Each input prints the exact commands the
// orchestrator emitted and its trace, so a behaviour change reads as a diff.
//
// Commands (steps are named; a name's index is its position in `plan`):
//   plan a b:a c:a d:b,c [key=value...]   the graph: `name` or `name:need,need`.
//       Options for every step, or for one step as `<step>.<key>=...`:
//       retry=N  backoff=D  multiplier=X  jitter=X  timeout=D
//       schedule-to-start=D  schedule-to-close=D  non-retryable=C,C  retry-on=C,C
//       comp=a,b (steps with a compensation)  comp-when=attempted
//       comp-retry=N  comp-backoff=D;  deadline=D (the saga's)
//   start
//   started <step> [attempt=N] [phase=comp]     attempt: the current one by default
//   succeed <step> [attempt=N] [phase=comp] [output=X]
//   fail <step> [code=C] [retryable=false] [attempt=N] [phase=comp]
//   fire-timer <tN>|all-due   tN: fired at its time (the clock moves there if later);
//                             all-due: every armed timer due by now, in time order
//   advance <D>               moves the clock (fires nothing)
//   abort
//   state                     per-step states, counters, armed timers
// Durations: 10ms, 1s, 1500us, 2m. Timers are named t1, t2, ... in arming order.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/rng.h"
#include "datadriven/datadriven.h"
#include "saga/orchestrator.h"

namespace tri::saga {
namespace {

[[noreturn]] void Fail(const std::string& why) {
  throw std::runtime_error(why);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  std::string current;
  for (char c : text) {
    if (c == ',') {
      if (!current.empty()) items.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) items.push_back(current);
  return items;
}

std::int64_t ParseInt(const std::string& text) {
  std::size_t used = 0;
  long long value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    Fail("not a number: '" + text + "'");
  }
  if (used != text.size()) Fail("not a number: '" + text + "'");
  return value;
}

Duration ParseDuration(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0) Fail("not a duration: '" + text + "'");
  const std::int64_t n = ParseInt(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ns") return Duration{n};
  if (unit == "us") return std::chrono::microseconds(n);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  Fail("not a duration unit: '" + text + "' (ns, us, ms, s, m)");
}

std::string FormatDuration(Duration d) {
  const std::int64_t ns = d.count();
  if (ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

std::vector<int> ParseCodes(const std::string& text) {
  std::vector<int> codes;
  for (const std::string& item : SplitList(text))
    codes.push_back(static_cast<int>(ParseInt(item)));
  return codes;
}

class OrchestratorEnv {
 public:
  std::string Handle(const datadriven::Command& cmd) {
    if (cmd.name == "plan") return Plan(cmd);
    if (orch_ == nullptr) Fail("no plan yet");
    if (cmd.name == "start") return Input([&](auto& out) { orch_->Start(now_, out); });
    if (cmd.name == "started" || cmd.name == "succeed" || cmd.name == "fail") return Result(cmd);
    if (cmd.name == "fire-timer") return FireTimer(cmd);
    if (cmd.name == "advance") {
      if (cmd.args.size() != 1) Fail("advance <duration>");
      now_ += ParseDuration(cmd.args[0]);
      return "now " + FormatDuration(now_) + "\n";
    }
    if (cmd.name == "abort") return Input([&](auto& out) { orch_->Abort(now_, out); });
    if (cmd.name == "state") return State();
    Fail("unknown command '" + cmd.name + "'");
  }

 private:
  struct ArmedTimer {
    std::string name;
    TimerId id = 0;
    TimePoint fire_at{0};
  };

  std::string Plan(const datadriven::Command& cmd) {
    std::vector<std::vector<StepIndex>> needs;
    names_.clear();
    for (const std::string& word : cmd.args) {
      const auto colon = word.find(':');
      const std::string name = word.substr(0, colon);
      if (Index(name, /*must_exist=*/false).has_value()) Fail("step '" + name + "' twice");
      std::vector<StepIndex> step_needs;
      if (colon != std::string::npos) {
        for (const std::string& need : SplitList(word.substr(colon + 1))) {
          step_needs.push_back(*Index(need, /*must_exist=*/true));
        }
      }
      names_.push_back(name);
      needs.push_back(std::move(step_needs));
    }
    std::vector<StepPolicy> policies(names_.size());
    Duration deadline{0};
    // Saga-wide options first, then per-step ones (`b.retry=3`) override them.
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& [key, value] : cmd.options) {
        const auto dot = key.find('.');
        if ((dot != std::string::npos) != (pass == 1)) continue;
        if (key == "deadline") {
          deadline = ParseDuration(value);
          continue;
        }
        if (key == "comp") {
          for (const std::string& name : SplitList(value))
            policies[*Index(name, true)].has_compensate = true;
          continue;
        }
        if (dot == std::string::npos) {
          for (StepPolicy& policy : policies)
            SetPolicy(policy, key, value);
        } else {
          SetPolicy(policies[*Index(key.substr(0, dot), true)], key.substr(dot + 1), value);
        }
      }
    }
    auto graph = SagaGraph::FromNeeds(std::move(needs));
    if (!graph.ok()) Fail(graph.status().ToString());
    auto plan = SagaPlan::Make(std::move(*graph), std::move(policies), deadline);
    if (!plan.ok()) Fail(plan.status().ToString());
    rng_ = std::make_unique<SeededRng>(1);
    orch_ = std::make_unique<Orchestrator>(*plan, *rng_, OrchestratorOptions{.trace = true});
    now_ = TimePoint{0};
    timers_.clear();
    next_timer_ = 1;
    return "plan: " + std::to_string(names_.size()) + " steps, " +
           std::to_string((*plan)->graph().depth()) + " levels\n";
  }

  static void SetPolicy(StepPolicy& policy, const std::string& key, const std::string& value) {
    if (key == "retry") {
      policy.retry.max_attempts = static_cast<std::uint32_t>(ParseInt(value));
    } else if (key == "backoff") {
      policy.retry.backoff.initial = ParseDuration(value);
    } else if (key == "multiplier") {
      policy.retry.backoff.multiplier = std::stod(value);
    } else if (key == "jitter") {
      policy.retry.jitter = std::stod(value);
    } else if (key == "timeout") {
      policy.timeout = ParseDuration(value);
    } else if (key == "schedule-to-start") {
      policy.schedule_to_start = ParseDuration(value);
    } else if (key == "schedule-to-close") {
      policy.schedule_to_close = ParseDuration(value);
    } else if (key == "non-retryable") {
      policy.retry.non_retryable = ParseCodes(value);
    } else if (key == "retry-on") {
      policy.retry.retry_on = ParseCodes(value);
    } else if (key == "comp-when") {
      if (value != "attempted" && value != "succeeded") Fail("comp-when=attempted|succeeded");
      policy.compensate_when =
          value == "attempted" ? CompensateWhen::kAttempted : CompensateWhen::kSucceeded;
    } else if (key == "comp-retry") {
      policy.compensate_retry.max_attempts = static_cast<std::uint32_t>(ParseInt(value));
    } else if (key == "comp-backoff") {
      policy.compensate_retry.backoff.initial = ParseDuration(value);
    } else {
      Fail("unknown plan option '" + key + "'");
    }
  }

  std::optional<StepIndex> Index(const std::string& name, bool must_exist) const {
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) {
      if (must_exist) Fail("unknown step '" + name + "'");
      return std::nullopt;
    }
    return static_cast<StepIndex>(it - names_.begin());
  }

  std::string StepName(StepIndex s) const { return s == kNoStep ? std::string("-") : names_.at(s); }

  std::string Result(const datadriven::Command& cmd) {
    if (cmd.args.size() != 1) Fail(cmd.name + " <step>");
    const StepIndex step = *Index(cmd.args[0], true);
    const auto get = [&](const std::string& key) -> std::optional<std::string> {
      const auto it = cmd.options.find(key);
      return it == cmd.options.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    const auto phase_text = get("phase").value_or("forward");
    if (phase_text != "forward" && phase_text != "comp") Fail("phase=forward|comp");
    const AttemptPhase phase =
        phase_text == "comp" ? AttemptPhase::kCompensate : AttemptPhase::kForward;
    const std::uint32_t scheduled = phase == AttemptPhase::kForward
                                        ? orch_->attempts(step)
                                        : orch_->compensation_attempts(step);
    const std::uint32_t attempt =
        get("attempt") ? static_cast<std::uint32_t>(ParseInt(*get("attempt"))) : scheduled;
    // A result for an attempt never scheduled is a driver bug the orchestrator
    // asserts on; a started report for one is ignored (it may race a cancel).
    if (cmd.name != "started" && (attempt == 0 || attempt > scheduled)) {
      Fail("attempt " + std::to_string(attempt) + " of '" + cmd.args[0] + "' was never scheduled");
    }
    if (cmd.name == "started") {
      return Input([&](auto& out) { orch_->OnAttemptStarted(phase, step, attempt, now_, out); });
    }
    if (cmd.name == "succeed") {
      const std::string output = get("output").value_or("");
      return Input(
          [&](auto& out) { orch_->OnAttemptSucceeded(phase, step, attempt, now_, out, output); });
    }
    const int code = static_cast<int>(ParseInt(get("code").value_or("500")));
    const bool retryable = get("retryable").value_or("true") != "false";
    return Input([&](auto& out) {
      orch_->OnAttemptFailed(phase, step, attempt, code, retryable, "injected", now_, out);
    });
  }

  std::string FireTimer(const datadriven::Command& cmd) {
    if (cmd.args.size() != 1) Fail("fire-timer <tN>|all-due");
    std::string text;
    if (cmd.args[0] == "all-due") {
      for (;;) {
        // Earliest first; among equal times, the first armed.
        auto due =
            std::min_element(timers_.begin(), timers_.end(),
                             [](const auto& a, const auto& b) { return a.fire_at < b.fire_at; });
        if (due == timers_.end() || due->fire_at > now_) break;
        const ArmedTimer timer = *due;
        timers_.erase(due);
        text += "fire " + timer.name + "\n";
        text += Input([&](auto& out) { orch_->OnTimerFired(timer.id, now_, out); });
      }
      return text.empty() ? "no timer due\n" : text;
    }
    const auto it = std::find_if(timers_.begin(), timers_.end(),
                                 [&](const ArmedTimer& t) { return t.name == cmd.args[0]; });
    if (it == timers_.end()) Fail("no armed timer " + cmd.args[0]);
    const ArmedTimer timer = *it;
    timers_.erase(it);
    if (timer.fire_at > now_) {
      now_ = timer.fire_at;
      text += "now " + FormatDuration(now_) + "\n";
    }
    return text + Input([&](auto& out) { orch_->OnTimerFired(timer.id, now_, out); });
  }

  template <typename F>
  std::string Input(F&& call) {
    const std::uint64_t stale_before = orch_->stats().stale_results_ignored;
    commands_.clear();
    call(commands_);
    std::string text;
    for (const Command& c : commands_)
      text += FormatCommand(c);
    for (const TraceRecord& r : orch_->TakeTrace()) {
      text += "trace " + FormatDuration(r.time) + " " + StepName(r.step) + " " +
              TraceEventName(r.event);
      if (r.attempt != 0) text += " #" + std::to_string(r.attempt);
      if (r.code != 0) text += " code=" + std::to_string(r.code);
      text += "\n";
    }
    if (orch_->stats().stale_results_ignored != stale_before) text += "ignored (stale)\n";
    return text.empty() ? "(nothing)\n" : text;
  }

  std::string FormatCommand(const Command& c) {
    const char* phase = c.phase == AttemptPhase::kForward ? "forward" : "comp";
    switch (c.kind) {
      case CommandKind::kStartAttempt:
      case CommandKind::kCancelAttempt:
        return std::string(CommandKindName(c.kind)) + " " + phase + " " + StepName(c.step) + "#" +
               std::to_string(c.attempt) + "\n";
      case CommandKind::kArmTimer: {
        ArmedTimer timer{
            .name = "t" + std::to_string(next_timer_++), .id = c.timer, .fire_at = c.fire_at};
        timers_.push_back(timer);
        return "arm_timer " + timer.name + " " + DescribeTimerText(c.timer) + " at " +
               FormatDuration(c.fire_at) + "\n";
      }
      case CommandKind::kSagaFinished:
        return std::string("saga_finished ") + SagaOutcomeName(c.outcome) + "\n";
    }
    Fail("unknown command kind");
  }

  std::string DescribeTimerText(TimerId id) const {
    const TimerDescription d = DescribeTimer(id);
    if (d.step == kNoStep) return d.kind;
    return std::string(d.kind) + " " + StepName(d.step) + "#" + std::to_string(d.attempt);
  }

  std::string State() const {
    const char* phase = !orch_->started()       ? "not_started"
                        : orch_->finished()     ? "finished"
                        : orch_->compensating() ? "compensating"
                                                : "forward";
    std::string text = std::string("saga ") + phase +
                       " outcome=" + SagaOutcomeName(orch_->outcome()) +
                       " stop=" + StopCauseName(orch_->stop_cause()) +
                       " running=" + std::to_string(orch_->running()) +
                       " in_flight=" + std::to_string(orch_->in_flight()) + "\n";
    for (StepIndex s = 0; s < names_.size(); ++s) {
      text += names_[s] + ": " + StepStateName(orch_->step_state(s));
      if (orch_->attempts(s) > 0) text += " attempts=" + std::to_string(orch_->attempts(s));
      if (orch_->compensation_attempts(s) > 0) {
        text += " comp_attempts=" + std::to_string(orch_->compensation_attempts(s));
      }
      if (orch_->attempt_started(s)) text += " started";
      if (orch_->last_code(s) != 0) text += " code=" + std::to_string(orch_->last_code(s));
      if (!orch_->output(s).empty()) text += " output=" + orch_->output(s);
      text += "\n";
    }
    const SagaStats stats = orch_->stats();
    text += "stats attempts=" + std::to_string(stats.attempts) +
            " retries=" + std::to_string(stats.retries) + " busy=" + FormatDuration(stats.busy) +
            " max_parallelism=" + std::to_string(stats.max_parallelism) +
            " stale=" + std::to_string(stats.stale_results_ignored) + "\n";
    for (const ArmedTimer& t : timers_) {
      text += "timer " + t.name + " " + DescribeTimerText(t.id) + " at " +
              FormatDuration(t.fire_at) + "\n";
    }
    return text;
  }

  std::vector<std::string> names_;
  std::unique_ptr<SeededRng> rng_;
  std::unique_ptr<Orchestrator> orch_;
  TimePoint now_{0};
  std::vector<ArmedTimer> timers_;
  int next_timer_ = 1;
  std::vector<Command> commands_;
};

class OrchestratorScript : public ::testing::TestWithParam<std::string> {};

TEST_P(OrchestratorScript, MatchesExpectedOutput) {
  OrchestratorEnv env;
  const datadriven::ScriptResult result = datadriven::RunScript(
      std::string(TRI_SAGA_TESTDATA_DIR) + "/" + GetParam(),
      [&env](const datadriven::Command& cmd) { return env.Handle(cmd); },
      datadriven::RewriteRequested());
  for (const std::string& failure : result.failures)
    ADD_FAILURE() << failure;
}

INSTANTIATE_TEST_SUITE_P(Scripts, OrchestratorScript,
                         ::testing::ValuesIn(datadriven::ScriptFiles(TRI_SAGA_TESTDATA_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return datadriven::TestNameOf(info.param);
                         });

}  // namespace
}  // namespace tri::saga
