#include "client/saga_format.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

#include "client/etcdctl_format.h"

namespace tri::client {
namespace {

// Step states in the order a summary names them.
constexpr std::array<std::string_view, 10> kStepStates = {
    "succeeded",           "failed",       "timed_out", "cancelled", "compensated",
    "compensation_failed", "compensating", "running",   "backoff",   "pending"};

std::string Seconds(std::uint64_t ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3fs", static_cast<double>(ms) / 1000.0);
  return buffer;
}

// One line for a table cell: newlines and tabs become spaces, long text is cut.
std::string Cell(std::string_view text, std::size_t max = 60) {
  std::string out;
  for (char c : text)
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (out.size() > max) out = out.substr(0, max - 3) + "...";
  return out;
}

std::string Duration(std::uint64_t from_ms, std::uint64_t to_ms) {
  if (from_ms == 0 || to_ms == 0 || to_ms < from_ms) return "-";
  return Seconds(to_ms - from_ms);
}

}  // namespace

std::optional<int> ExitCodeOfSagaState(std::string_view state) {
  if (state == "completed") return kExitSagaCompleted;
  if (state == "failed") return kExitSagaFailed;
  if (state == "compensated") return kExitSagaCompensated;
  if (state == "compensation_failed") return kExitSagaCompensationFailed;
  return std::nullopt;
}

std::string FormatUnixMs(std::uint64_t unix_ms) {
  if (unix_ms == 0) return "-";
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[80];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<unsigned>(unix_ms % 1000));
  return buffer;
}

std::string SagaEventLine(const trinity::v1::SagaEvent& event, const std::string& saga_id,
                          std::uint64_t base_ms) {
  const std::uint64_t since = event.time_ms() > base_ms ? event.time_ms() - base_ms : 0;
  char prefix[32];
  std::snprintf(prefix, sizeof(prefix), "[%9.3fs] ", static_cast<double>(since) / 1000.0);
  std::string line = prefix;
  line += event.step().empty() ? "saga " + saga_id + ": " : "step " + event.step() + ": ";
  line += event.event();
  if (event.attempt() > 0) line += " (attempt " + std::to_string(event.attempt()) + ")";
  if (event.code() != 0) line += " code " + std::to_string(event.code());
  return line;
}

std::string StopCauseText(const trinity::v1::Saga& saga) {
  if (saga.stop_cause() == "deadline") return "deadline";
  if (saga.stop_cause() == "abort") return "abort";
  if (saga.stop_cause() != "step_failed") return "";
  // The step whose failure stopped the saga: the first forward phase to end badly.
  const trinity::v1::SagaStep* first = nullptr;
  for (const trinity::v1::SagaStep& step : saga.steps()) {
    const std::string& how = step.forward_state();
    if (how != "failed" && how != "timed_out") continue;
    if (first == nullptr || step.finished_ms() < first->finished_ms()) first = &step;
  }
  if (first == nullptr) return "failure of a step";
  std::string text = "failure of step " + first->id();
  if (first->forward_state() == "timed_out") text += " (timed out)";
  if (first->code() != 0) text += " (code " + std::to_string(first->code()) + ")";
  return text;
}

std::string SagaSummary(const trinity::v1::Saga& saga) {
  std::map<std::string_view, int> counts;
  for (const trinity::v1::SagaStep& step : saga.steps())
    ++counts[step.state()];
  std::string tally;
  for (std::string_view state : kStepStates) {
    auto it = counts.find(state);
    if (it == counts.end()) continue;
    std::string name(state);
    for (char& c : name)
      if (c == '_') c = ' ';
    tally += (tally.empty() ? "" : ", ") + std::to_string(it->second) + " " + name;
  }
  std::string out = "saga " + saga.id() + ": " + saga.state();
  if (saga.finished_ms() != 0) out += " in " + Duration(saga.created_ms(), saga.finished_ms());
  if (!tally.empty()) out += " (" + tally + ")";
  out += "\n";
  if (const std::string cause = StopCauseText(saga); !cause.empty())
    out += "  stopped by: " + cause + "\n";
  for (const trinity::v1::SagaStep& step : saga.steps()) {
    if (step.code() == 0 && step.message().empty()) continue;
    out += "  " + step.id() + ": " + step.state() + ", code " + std::to_string(step.code());
    if (!step.message().empty()) out += ": " + Cell(step.message(), 200);
    out += "\n";
  }
  if (saga.compensation_failed_steps_size() > 0) {
    std::string steps;
    for (const std::string& id : saga.compensation_failed_steps())
      steps += (steps.empty() ? "" : ", ") + id;
    out += "  compensation failed for: " + steps + "\n";
  }
  return out;
}

std::string RenderSagaDetail(const trinity::v1::Saga& saga) {
  std::string definition = saga.definition_name().empty() ? "(inline)" : saga.definition_name();
  if (saga.definition_version() != 0)
    definition += " v" + std::to_string(saga.definition_version());
  std::string out;
  const auto field = [&out](const char* name, const std::string& value) {
    char label[24];
    std::snprintf(label, sizeof(label), "%-13s", name);
    out += std::string(label) + value + "\n";
  };
  field("id:", saga.id());
  field("definition:", definition);
  field("state:", saga.state() + (saga.compensating() ? " (compensating)" : ""));
  if (const std::string cause = StopCauseText(saga); !cause.empty()) field("stopped by:", cause);
  field("created:", FormatUnixMs(saga.created_ms()));
  field("finished:", FormatUnixMs(saga.finished_ms()));
  if (saga.finished_ms() != 0) field("took:", Duration(saga.created_ms(), saga.finished_ms()));
  if (!saga.inputs().empty()) {
    const std::map<std::string, std::string> sorted(saga.inputs().begin(), saga.inputs().end());
    std::string inputs;
    for (const auto& [name, value] : sorted)
      inputs += (inputs.empty() ? "" : ", ") + name + "=" + Cell(value, 40);
    field("inputs:", inputs);
  }
  field("attempts:", std::to_string(saga.attempts()) + " (" + std::to_string(saga.retries()) +
                         " retries, " + std::to_string(saga.compensation_attempts()) +
                         " compensation attempts)");
  field("events:", std::to_string(saga.events()));
  if (saga.compensation_failed_steps_size() > 0) {
    std::string steps;
    for (const std::string& id : saga.compensation_failed_steps())
      steps += (steps.empty() ? "" : ", ") + id;
    field("compensation failed:", steps);
  }
  if (saga.steps_size() == 0) return out;
  std::vector<std::vector<std::string>> rows;
  for (const trinity::v1::SagaStep& step : saga.steps()) {
    rows.push_back({step.id(), step.state(), std::to_string(step.attempts()),
                    step.code() == 0 ? "" : std::to_string(step.code()),
                    FormatUnixMs(step.started_ms()),
                    Duration(step.started_ms(), step.finished_ms()), Cell(step.message())});
  }
  return out +
         RenderTable({"step", "state", "attempts", "code", "started", "took", "message"}, rows);
}

std::string RenderSagaList(const trinity::v1::ListSagasResponse& page) {
  std::vector<std::vector<std::string>> rows;
  for (const trinity::v1::Saga& saga : page.sagas()) {
    std::string definition = saga.definition_name().empty() ? "(inline)" : saga.definition_name();
    if (saga.definition_version() != 0)
      definition += " v" + std::to_string(saga.definition_version());
    rows.push_back({saga.id(), definition, saga.state(), FormatUnixMs(saga.created_ms()),
                    FormatUnixMs(saga.finished_ms()), std::to_string(saga.events())});
  }
  return RenderTable({"id", "definition", "state", "created", "finished", "events"}, rows);
}

}  // namespace tri::client
