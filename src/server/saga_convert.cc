#include "server/saga_convert.h"

#include <fmt/format.h>
#include <grpcpp/support/status.h>

#include <array>
#include <string_view>

#include "client/grpc_status.h"
#include "saga/saga_id.h"

namespace tri::server {
namespace {

// saga::SagaOutcomeName of every outcome: the values a state filter may take.
constexpr std::array<std::string_view, 5> kSagaStates = {"running", "completed", "failed",
                                                         "compensated", "compensation_failed"};

}  // namespace

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(client::GrpcCodeOf(status), status.message());
}

Status CheckSagaId(std::string_view saga_id) {
  if (saga_id.empty()) return InvalidArgument("saga_id: must not be empty");
  return saga::ValidateSagaId(saga_id).WithContext("saga_id");
}

Result<SagaDefineRequest> FromProto(const trinity::v1::DefineSagaRequest& request,
                                    const SagaApiLimits& limits) {
  if (request.document().empty()) return InvalidArgument("document: must not be empty");
  if (request.document().size() > limits.max_document_bytes)
    return InvalidArgument(fmt::format("document: {} bytes, more than the limit of {} bytes",
                                       request.document().size(), limits.max_document_bytes));
  SagaDefineRequest out;
  out.document = request.document();
  out.source_name = request.source_name().empty() ? "request" : request.source_name();
  return out;
}

Result<SagaStartRequest> FromProto(const trinity::v1::StartSagaRequest& request,
                                   const SagaApiLimits& limits) {
  const bool by_name = !request.definition_name().empty();
  const bool inline_document = !request.document().empty();
  if (by_name == inline_document)
    return InvalidArgument(
        "give exactly one of definition_name (a registered definition) and document (an "
        "inline one)");
  if (inline_document && request.definition_version() != 0)
    return InvalidArgument("definition_version: only with definition_name");
  if (request.document().size() > limits.max_document_bytes)
    return InvalidArgument(fmt::format("document: {} bytes, more than the limit of {} bytes",
                                       request.document().size(), limits.max_document_bytes));
  if (!request.saga_id().empty()) TRI_RETURN_IF_ERROR(CheckSagaId(request.saga_id()));
  if (static_cast<std::size_t>(request.inputs_size()) > limits.max_inputs)
    return InvalidArgument(fmt::format("inputs: {} given, more than the limit of {}",
                                       request.inputs_size(), limits.max_inputs));
  SagaStartRequest out;
  std::size_t input_bytes = 0;
  for (const auto& [name, value] : request.inputs()) {
    if (name.empty()) return InvalidArgument("inputs: an input name is empty");
    input_bytes += name.size() + value.size();
    out.inputs.emplace(name, value);
  }
  if (input_bytes > limits.max_input_bytes)
    return InvalidArgument(
        fmt::format("inputs: {} bytes of names and values, more than the limit of {} bytes",
                    input_bytes, limits.max_input_bytes));
  out.definition_name = request.definition_name();
  out.definition_version = request.definition_version();
  out.inline_document = request.document();
  out.saga_id = request.saga_id();
  out.wait = request.wait();
  return out;
}

Result<SagaListRequest> FromProto(const trinity::v1::ListSagasRequest& request,
                                  const SagaApiLimits& limits) {
  if (!request.state().empty()) {
    bool known = false;
    for (std::string_view s : kSagaStates)
      known = known || s == request.state();
    if (!known)
      return InvalidArgument(
          fmt::format("state: \"{}\" is not a saga state (running, completed, failed, compensated, "
                      "compensation_failed)",
                      request.state()));
  }
  if (request.created_after_ms() != 0 && request.created_before_ms() != 0 &&
      request.created_after_ms() >= request.created_before_ms())
    return InvalidArgument(fmt::format(
        "created_after_ms ({}) must be before created_before_ms ({}): the range is empty",
        request.created_after_ms(), request.created_before_ms()));
  if (request.limit() > limits.max_list_limit)
    return InvalidArgument(fmt::format("limit: {} is more than the largest page, {}",
                                       request.limit(), limits.max_list_limit));
  SagaListRequest out;
  out.state = request.state();
  out.definition_name = request.definition_name();
  out.created_after_ms = request.created_after_ms();
  out.created_before_ms = request.created_before_ms();
  out.page_token = request.page_token();
  out.limit = request.limit() == 0 ? limits.default_list_limit : request.limit();
  out.serializable = request.serializable();
  return out;
}

void ToProto(const SagaDefineReply& reply, trinity::v1::DefineSagaResponse* out) {
  out->set_name(reply.name);
  out->set_version(reply.version);
  out->set_already_existed(reply.already_existed);
}

void ToProto(const SagaStartReply& reply, trinity::v1::StartSagaResponse* out) {
  out->set_saga_id(reply.saga_id);
  out->set_already_existed(reply.already_existed);
  out->set_state(reply.state);
}

void ToProto(const SagaView& view, trinity::v1::Saga* out) {
  out->set_id(view.id);
  out->set_definition_name(view.definition_name);
  out->set_definition_version(view.definition_version);
  out->set_state(view.state);
  out->set_stop_cause(view.stop_cause);
  out->set_compensating(view.compensating);
  out->set_created_ms(view.created_ms);
  out->set_finished_ms(view.finished_ms);
  for (const auto& [name, value] : view.inputs)
    (*out->mutable_inputs())[name] = value;
  for (const std::string& step : view.compensation_failed_steps)
    out->add_compensation_failed_steps(step);
  out->set_events(view.events);
  out->set_attempts(view.attempts);
  out->set_retries(view.retries);
  out->set_compensation_attempts(view.compensation_attempts);
  out->set_stale_results_dropped(view.stale_results_dropped);
  for (const SagaStepView& s : view.steps) {
    trinity::v1::SagaStep* step = out->add_steps();
    step->set_id(s.id);
    step->set_state(s.state);
    step->set_forward_state(s.forward_state);
    step->set_attempts(s.attempts);
    step->set_compensation_attempts(s.compensation_attempts);
    step->set_code(s.code);
    step->set_message(s.message);
    step->set_output(s.output);
    step->set_started_ms(s.started_ms);
    step->set_finished_ms(s.finished_ms);
  }
}

void ToProto(const SagaListReply& reply, trinity::v1::ListSagasResponse* out) {
  for (const SagaView& view : reply.sagas)
    ToProto(view, out->add_sagas());
  out->set_next_page_token(reply.next_page_token);
}

void ToProto(const SagaEventView& event, trinity::v1::SagaEvent* out) {
  out->set_position(event.position);
  out->set_time_ms(event.time_ms);
  out->set_event(event.event);
  out->set_step(event.step);
  out->set_attempt(event.attempt);
  out->set_code(event.code);
}

}  // namespace tri::server
