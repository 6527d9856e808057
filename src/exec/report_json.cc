#include "exec/report_json.h"

#include "saga/events.h"

namespace tri::exec {
namespace {

double Millis(Duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

}  // namespace

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
    steps.push_back({{"id", std::string(step.id)},
                     {"state", saga::StepStateName(step.state)},
                     {"forward_state", saga::StepStateName(step.forward_state)},
                     {"attempts", step.attempts},
                     {"compensation_attempts", step.compensation_attempts},
                     {"code", step.code},
                     {"message", std::string(step.message)},
                     {"output", std::move(output)}});
  }
  return {{"saga", result.saga_id},
          {"name", result.name},
          {"outcome", saga::SagaOutcomeName(result.outcome)},
          {"stop_cause", saga::StopCauseName(result.stop_cause)},
          {"wall_ms", Millis(stats.wall)},
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
  nlohmann::json line{{"ts_ns", event.since_start.count()}, {"saga", event.saga_id}};
  if (event.record.step != saga::kNoStep) {
    line["step"] = event.definition.spec.steps[event.record.step].id;
  }
  line["event"] = saga::TraceEventName(event.record.event);
  line["attempt"] = event.record.attempt;
  line["code"] = event.record.code;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tri::exec
