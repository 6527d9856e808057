#include "client/saga_json.h"

#include <map>
#include <string>

namespace tri::client {
namespace {

nlohmann::json StepToJson(const trinity::v1::SagaStep& step) {
  return nlohmann::json{
      {"id", step.id()},
      {"state", step.state()},
      {"forward_state", step.forward_state()},
      {"attempts", step.attempts()},
      {"compensation_attempts", step.compensation_attempts()},
      {"code", step.code()},
      {"message", step.message()},
      {"output", step.output()},
      {"started_ms", step.started_ms()},
      {"finished_ms", step.finished_ms()},
  };
}

// Proto maps have no order; JSON objects here are sorted by key so output is stable.
nlohmann::json InputsToJson(const google::protobuf::Map<std::string, std::string>& inputs) {
  const std::map<std::string, std::string> sorted(inputs.begin(), inputs.end());
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : sorted)
    out[name] = value;
  return out;
}

}  // namespace

nlohmann::json SagaToJson(const trinity::v1::Saga& saga) {
  nlohmann::json steps = nlohmann::json::array();
  for (const trinity::v1::SagaStep& step : saga.steps())
    steps.push_back(StepToJson(step));
  nlohmann::json compensation_failed = nlohmann::json::array();
  for (const std::string& step : saga.compensation_failed_steps())
    compensation_failed.push_back(step);
  return nlohmann::json{
      {"id", saga.id()},
      {"definition_name", saga.definition_name()},
      {"definition_version", saga.definition_version()},
      {"state", saga.state()},
      {"stop_cause", saga.stop_cause()},
      {"compensating", saga.compensating()},
      {"created_ms", saga.created_ms()},
      {"finished_ms", saga.finished_ms()},
      {"inputs", InputsToJson(saga.inputs())},
      {"compensation_failed_steps", std::move(compensation_failed)},
      {"events", saga.events()},
      {"attempts", saga.attempts()},
      {"retries", saga.retries()},
      {"compensation_attempts", saga.compensation_attempts()},
      {"stale_results_dropped", saga.stale_results_dropped()},
      {"steps", std::move(steps)},
  };
}

nlohmann::json SagaEventToJson(const trinity::v1::SagaEvent& event) {
  return nlohmann::json{
      {"position", event.position()}, {"time_ms", event.time_ms()}, {"event", event.event()},
      {"step", event.step()},         {"attempt", event.attempt()}, {"code", event.code()},
  };
}

nlohmann::json DefineSagaResponseToJson(const trinity::v1::DefineSagaResponse& response) {
  return nlohmann::json{{"name", response.name()},
                        {"version", response.version()},
                        {"already_existed", response.already_existed()}};
}

nlohmann::json StartSagaResponseToJson(const trinity::v1::StartSagaResponse& response) {
  return nlohmann::json{{"saga_id", response.saga_id()},
                        {"already_existed", response.already_existed()}};
}

nlohmann::json ListSagasResponseToJson(const trinity::v1::ListSagasResponse& response) {
  nlohmann::json sagas = nlohmann::json::array();
  for (const trinity::v1::Saga& saga : response.sagas())
    sagas.push_back(SagaToJson(saga));
  return nlohmann::json{{"sagas", std::move(sagas)},
                        {"next_page_token", response.next_page_token()}};
}

std::string DumpJson(const nlohmann::json& json, int indent) {
  return json.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tri::client
