#include "sim/saga_checkers.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <variant>
#include <vector>

#include "base/coding.h"
#include "rsm/command.h"
#include "rsm/saga_codec.h"

namespace tri::sim {
namespace {

using saga::TraceEvent;

constexpr std::size_t kNoPosition = std::numeric_limits<std::size_t>::max();

bool IsTerminal(TraceEvent e) {
  return e == TraceEvent::kSagaCompleted || e == TraceEvent::kSagaCompensated ||
         e == TraceEvent::kSagaCompensationFailed || e == TraceEvent::kSagaFailed;
}

TraceEvent TerminalEventOf(saga::SagaOutcome outcome) {
  switch (outcome) {
    case saga::SagaOutcome::kCompensated:
      return TraceEvent::kSagaCompensated;
    case saga::SagaOutcome::kCompensationFailed:
      return TraceEvent::kSagaCompensationFailed;
    case saga::SagaOutcome::kFailed:
      return TraceEvent::kSagaFailed;
    default:
      return TraceEvent::kSagaCompleted;
  }
}

std::string StepId(const saga::SagaDefinition& def, saga::StepIndex s) {
  return s < def.step_ids.size() ? std::string(def.step_ids[s]) : fmt::format("#{}", s);
}

}  // namespace

std::string SagaViolation::Describe() const {
  std::string where = "saga '" + saga_id + "'";
  if (!step.empty()) where += ", step '" + step + "'";
  return where + ": " + details;
}

std::string SagaViolation::ToString() const {
  return rule + ": " + Describe();
}

std::optional<SagaViolation> CheckSagaEvents(std::string_view saga_id,
                                             const saga::SagaDefinition& def,
                                             const std::deque<rsm::SagaEventRecord>& events,
                                             bool finished, saga::SagaOutcome outcome) {
  auto violation = [&](std::string_view rule, std::string step, std::string details) {
    return SagaViolation{std::string(rule), std::string(saga_id), std::move(step),
                         std::move(details)};
  };
  const std::size_t n_steps = def.step_ids.size();

  // --- one terminal state ---------------------------------------------------
  std::size_t terminals = 0;
  std::size_t terminal_at = kNoPosition;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (IsTerminal(events[i].event)) {
      ++terminals;
      if (terminal_at == kNoPosition) terminal_at = i;
    }
  }
  if (finished) {
    if (terminals != 1) {
      return violation(kRuleOneTerminalState, "",
                       fmt::format("{} terminal events in a finished saga's history", terminals));
    }
    if (terminal_at + 1 != events.size()) {
      return violation(
          kRuleOneTerminalState, "",
          fmt::format("event {} ({}) follows the terminal event at {}", terminal_at + 1,
                      saga::TraceEventName(events[terminal_at + 1].event), terminal_at));
    }
    if (events[terminal_at].event != TerminalEventOf(outcome)) {
      return violation(kRuleOneTerminalState, "",
                       fmt::format("terminal event {} but the saga's outcome is {}",
                                   saga::TraceEventName(events[terminal_at].event),
                                   saga::SagaOutcomeName(outcome)));
    }
  } else if (terminals != 0) {
    return violation(kRuleOneTerminalState, "",
                     fmt::format("a running saga's history holds terminal event {} at {}",
                                 saga::TraceEventName(events[terminal_at].event), terminal_at));
  }

  // --- no forward start after the stop ----------------------------------------
  // The orchestrator stops in one step: a final step failure, the deadline or
  // an abort is followed at once by step_cancelled (running and backing-off
  // steps), compensation_started or the terminal event; the first of these
  // marks the stop.
  std::size_t stop_at = kNoPosition;
  for (std::size_t i = 0; i < events.size() && stop_at == kNoPosition; ++i) {
    switch (events[i].event) {
      case TraceEvent::kStepCancelled:
      case TraceEvent::kCompensationStarted:
      case TraceEvent::kSagaCompensated:
      case TraceEvent::kSagaCompensationFailed:
      case TraceEvent::kSagaFailed:
        stop_at = i;
        break;
      default:
        break;
    }
  }
  if (stop_at != kNoPosition) {
    for (std::size_t i = stop_at + 1; i < events.size(); ++i) {
      const rsm::SagaEventRecord& e = events[i];
      if (e.event != TraceEvent::kStepStarted) continue;
      return violation(
          kRuleNoStartAfterStop, StepId(def, e.step),
          fmt::format(
              "attempt {} started at event {}, after the stop at event {} ({} of step '{}')",
              e.attempt, i, stop_at, saga::TraceEventName(events[stop_at].event),
              StepId(def, events[stop_at].step)));
    }
  }

  // --- compensation order ------------------------------------------------------
  std::vector<std::size_t> first_comp_start(n_steps, kNoPosition);
  std::vector<std::size_t> last_comp_event(n_steps, kNoPosition);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const rsm::SagaEventRecord& e = events[i];
    if (e.step >= n_steps) continue;
    if (e.event == TraceEvent::kCompensationStarted) {
      if (first_comp_start[e.step] == kNoPosition) first_comp_start[e.step] = i;
      last_comp_event[e.step] = i;
    } else if (e.event == TraceEvent::kCompensationSucceeded ||
               e.event == TraceEvent::kCompensationFailed) {
      last_comp_event[e.step] = i;
    }
  }
  const saga::SagaGraph& graph = def.plan->graph();
  std::vector<bool> seen(n_steps);
  std::vector<saga::StepIndex> stack;
  for (saga::StepIndex c = 0; c < n_steps; ++c) {
    if (first_comp_start[c] == kNoPosition) continue;
    // Every step that depends on c, transitively.
    std::fill(seen.begin(), seen.end(), false);
    stack.assign(graph.dependents(c).begin(), graph.dependents(c).end());
    while (!stack.empty()) {
      const saga::StepIndex d = stack.back();
      stack.pop_back();
      if (seen[d]) continue;
      seen[d] = true;
      for (saga::StepIndex next : graph.dependents(d))
        stack.push_back(next);
      if (first_comp_start[d] == kNoPosition) continue;  // not in the compensation set
      const std::size_t done = last_comp_event[d];
      const bool finished_before =
          events[done].event != TraceEvent::kCompensationStarted && done < first_comp_start[c];
      if (!finished_before) {
        return violation(
            kRuleCompensationOrder, StepId(def, c),
            fmt::format("its compensation started at event {} before dependent step '{}' "
                        "finished compensating (its last compensation event: {} at {})",
                        first_comp_start[c], StepId(def, d),
                        saga::TraceEventName(events[done].event), done));
      }
    }
  }
  return std::nullopt;
}

std::optional<SagaViolation> CheckSagaTable(const rsm::SagaTable& table) {
  for (const auto& [id, instance] : table.sagas()) {
    if (instance->first_event_position != 0) continue;  // history incomplete
    auto bad = CheckSagaEvents(id, instance->def(), instance->events, instance->finished(),
                               instance->orchestrator->outcome());
    if (bad) return bad;
  }
  return std::nullopt;
}

// --- the log observer -----------------------------------------------------------

SagaLogObserver::SagaLogObserver(rsm::SagaOptions options) : table_(std::move(options)) {}

void SagaLogObserver::Violate(std::string_view rule, std::string saga_id, std::string step,
                              std::string details) {
  if (violation_) return;
  violation_ =
      SagaViolation{std::string(rule), std::move(saga_id), std::move(step), std::move(details)};
}

std::string SagaLogObserver::StepName(const std::string& saga_id, saga::StepIndex step) const {
  const rsm::SagaInstance* instance = table_.Find(saga_id);
  if (instance == nullptr) return fmt::format("#{}", step);
  return StepId(instance->def(), step);
}

void SagaLogObserver::Observe(const raft::Entry& entry) {
  TRI_ASSERT_MSG(entry.index == observed_index_ + 1, "the saga observer skipped a log entry");
  observed_index_ = entry.index;
  if (entry.type != raft::EntryType::kNormal || entry.data.empty()) return;
  auto command = rsm::DecodeCommand(entry.data);
  if (!command.ok()) return;  // the state machine refuses it too
  // Node-level commands (member attributes, 16 and up) never reach the state
  // machine, so they do not move its time.
  if (static_cast<std::uint8_t>(command->kind) >= 16) return;
  time_ms_ = std::max(time_ms_, command->timestamp_ms);
  if (command->kind == rsm::CommandKind::kSaga) {
    auto saga_command = rsm::DecodeSagaCommand(
        command->payload,
        rsm::SagaDecodeLimits{.max_document_bytes = table_.options().limits.max_document_bytes});
    if (saga_command.ok()) {
      ++stats_.entries;
      if (const auto* inputs = std::get_if<rsm::SagaInputsCommand>(&*saga_command)) {
        for (const rsm::SagaInput& input : inputs->inputs)
          ApplyInput(entry.index, input);
      } else {
        (void)table_.Apply(entry.index, time_ms_, *saga_command);
        if (const auto* abort = std::get_if<rsm::SagaAbortCommand>(&*saga_command)) {
          CheckOutcomeKept(abort->saga_id);
        }
      }
    }
  }
  table_.Sweep(time_ms_);
  (void)table_.TakeChanged();
  (void)table_.TakeSwept();
}

void SagaLogObserver::ResyncFrom(const rsm::StateMachine& state) {
  TRI_ASSERT(state.applied_index() > observed_index_);
  std::string encoded;
  state.sagas().EncodeTo(encoded);
  coding::Decoder in(encoded);
  auto table = rsm::SagaTable::DecodeFrom(in, table_.options());
  TRI_ASSERT_MSG(table.ok(), "a replica's saga table does not decode");
  table_ = std::move(table).value();
  observed_index_ = state.applied_index();
  time_ms_ = state.time_ms();
  ++stats_.resyncs;
  for (const auto& [id, instance] : table_.sagas()) {
    for (const auto& [slot, wanted] : instance->wanted) {
      if (wanted.dispatch != 0) {
        dispatch_[AttemptKey{id, slot.first, slot.second, wanted.attempt}] = wanted.dispatch;
      }
    }
  }
  for (const auto& [id, outcome] : finished_)
    CheckOutcomeKept(id);
}

void SagaLogObserver::ApplyInput(std::uint64_t index, const rsm::SagaInput& input) {
  const rsm::SagaInstance* before = table_.Find(input.saga_id);
  const bool running = before != nullptr && !before->finished();
  const bool stopped = running && before->orchestrator->stop_cause() != saga::StopCause::kNone;
  const std::uint64_t events_before = running ? before->next_event_position() : 0;

  auto reply = table_.Apply(index, time_ms_, rsm::SagaInputsCommand{{input}});
  TRI_ASSERT_MSG(reply.ok(), "a saga inputs entry is never refused as a whole");
  const bool forward = input.phase == saga::AttemptPhase::kForward;
  const AttemptKey key{input.saga_id, input.phase, input.step, input.attempt};

  switch (input.kind) {
    case rsm::SagaInput::Kind::kTimerFired:
      break;
    case rsm::SagaInput::Kind::kStarted: {
      const std::uint64_t token = reply->dispatch_tokens.at(0);
      if (token == 0) break;
      ++stats_.dispatches;
      dispatch_[key] = token;
      if (forward && stopped) {
        Violate(kRuleNoStartAfterStop, input.saga_id, StepName(input.saga_id, input.step),
                fmt::format("forward attempt {} dispatched at entry {} after the saga stopped ({})",
                            input.attempt, index,
                            saga::StopCauseName(before->orchestrator->stop_cause())));
      }
      break;
    }
    case rsm::SagaInput::Kind::kSucceeded:
    case rsm::SagaInput::Kind::kFailed: {
      const rsm::SagaInstance* after = table_.Find(input.saga_id);
      const bool applied = running && after != nullptr &&
                           (after->next_event_position() != events_before || after->finished());
      if (!applied) {
        if (running) ++stats_.stale_results_refused;
        break;
      }
      ++stats_.results_applied;
      const std::string step = StepName(input.saga_id, input.step);
      if (forward && stopped) {
        Violate(kRuleNoStartAfterStop, input.saga_id, step,
                fmt::format("a forward result of attempt {} applied at entry {} after the saga "
                            "stopped ({})",
                            input.attempt, index,
                            saga::StopCauseName(before->orchestrator->stop_cause())));
      }
      auto d = dispatch_.find(key);
      const std::uint64_t latest = d == dispatch_.end() ? 0 : d->second;
      if (input.dispatch != latest) {
        Violate(kRuleNoSupersededResult, input.saga_id, step,
                fmt::format("{} attempt {}: a result of dispatch {} applied at entry {}, but the "
                            "attempt's latest dispatch is {}",
                            forward ? "forward" : "compensation", input.attempt, input.dispatch,
                            index, latest));
      }
      if (!resulted_.insert(key).second) {
        Violate(kRuleNoSupersededResult, input.saga_id, step,
                fmt::format("{} attempt {}: a second result applied at entry {}",
                            forward ? "forward" : "compensation", input.attempt, index));
      }
      break;
    }
  }
  CheckOutcomeKept(input.saga_id);
}

void SagaLogObserver::CheckOutcomeKept(const std::string& saga_id) {
  const rsm::SagaInstance* instance = table_.Find(saga_id);
  if (instance == nullptr) return;  // dropped by retention
  auto it = finished_.find(saga_id);
  if (it == finished_.end()) {
    if (instance->finished()) finished_.emplace(saga_id, instance->orchestrator->outcome());
    return;
  }
  if (!instance->finished() || instance->orchestrator->outcome() != it->second) {
    Violate(kRuleOneTerminalState, saga_id, "",
            fmt::format("finished as {}, later {}", saga::SagaOutcomeName(it->second),
                        saga::SagaOutcomeName(instance->orchestrator->outcome())));
  }
}

}  // namespace tri::sim
