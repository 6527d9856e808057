#include "exec/report_json.h"

#include <cstdio>
#include <ctime>

#include "saga/events.h"

namespace tri::exec {
namespace {

double Millis(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

// Unix milliseconds as a number, null when 0 (did not happen / not recorded).
nlohmann::json UnixMsOrNull(std::int64_t unix_ms) {
  return unix_ms == 0 ? nlohmann::json() : nlohmann::json(unix_ms);
}

nlohmann::json Rfc3339OrNull(std::int64_t unix_ms) {
  return unix_ms == 0 ? nlohmann::json() : nlohmann::json(Rfc3339Millis(unix_ms));
}

}  // namespace

std::string Rfc3339Millis(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[40];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return text;
}

nlohmann::json SagaResultToJson(const SagaResult& result) {
  const saga::SagaStats& stats = result.stats;
  nlohmann::json steps = nlohmann::json::array();
  for (const StepReport& step : result.steps()) {
    nlohmann::json output;  // null when there is none
    if (!step.output.empty()) {
      output = nlohmann::json::parse(step.output.begin(), step.output.end(), nullptr,
                                     /*allow_exceptions=*/false);
      if (output.is_discarded()) output = std::string(step.output);
    }
    steps.push_back(
        {{"id", std::string(step.id)},
         {"state", saga::StepStateName(step.state)},
         {"forward_state", saga::StepStateName(step.forward_state)},
         {"attempts", step.attempts},
         {"compensation_attempts", step.compensation_attempts},
         {"code", step.code},
         {"message", std::string(step.message)},
         {"output", std::move(output)},
         {"started_unix_ms", UnixMsOrNull(step.times.started_unix_ms)},
         {"ended_unix_ms", UnixMsOrNull(step.times.ended_unix_ms)},
         {"started_at", Rfc3339OrNull(step.times.started_unix_ms)},
         {"ended_at", Rfc3339OrNull(step.times.ended_unix_ms)},
         {"compensation_started_unix_ms", UnixMsOrNull(step.times.compensation_started_unix_ms)},
         {"compensation_ended_unix_ms", UnixMsOrNull(step.times.compensation_ended_unix_ms)}});
  }
  return {{"saga", result.saga_id},
          {"name", result.name},
          {"outcome", saga::SagaOutcomeName(result.outcome)},
          {"stop_cause", saga::StopCauseName(result.stop_cause)},
          {"wall_ms", Millis(stats.wall)},
          {"started_unix_ms", UnixMsOrNull(result.started_unix_ms)},
          {"stats",
           {{"levels", stats.levels},
            {"max_parallelism", stats.max_parallelism},
            {"avg_parallelism", stats.avg_parallelism},
            {"critical_path_ms", Millis(stats.critical_path)},
            {"busy_ms", Millis(stats.busy)},
            {"attempts", stats.attempts},
            {"retries", stats.retries},
            {"compensation_attempts", stats.compensation_attempts},
            {"steps_succeeded", stats.steps_succeeded},
            {"steps_failed", stats.steps_failed},
            {"steps_timed_out", stats.steps_timed_out},
            {"steps_cancelled", stats.steps_cancelled},
            {"steps_not_started", stats.steps_not_started},
            {"steps_compensated", stats.steps_compensated},
            {"steps_compensation_failed", stats.steps_compensation_failed}}},
          {"steps", std::move(steps)},
          {"compensation_failed_steps", result.compensation_failed_steps}};
}

std::string TraceLineJson(const SagaEvent& event) {
  nlohmann::json line{
      {"ts_ns", event.since_start.count()}, {"unix_ms", event.unix_ms}, {"saga", event.saga_id}};
  if (event.record.step != saga::kNoStep) {
    line["step"] = event.definition.spec.steps[event.record.step].id;
  }
  line["event"] = saga::TraceEventName(event.record.event);
  line["attempt"] = event.record.attempt;
  line["code"] = event.record.code;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tri::exec
