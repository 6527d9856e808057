#pragma once

// Conversions between the wire messages of trinity.v1.Sagas (sagas.proto) and
// the backend contract (saga_backend.h), shared by the gRPC service and the
// HTTP/JSON API so that both check requests the same way. Requests are checked
// here, at the API boundary, for what needs no state (sizes, id syntax, filter
// values); the backend checks the rest (the document, inputs against the
// definition, existence).

#include <cstddef>
#include <cstdint>

#include "base/result.h"
#include "base/status.h"
#include "saga/spec.h"
#include "server/saga_backend.h"
#include "trinity/v1/sagas.pb.h"

namespace grpc {
class Status;
}

namespace tri::server {

struct SagaApiLimits {
  // A saga document (DefineSaga, or StartSaga's inline document): the DSL's bound.
  std::size_t max_document_bytes = saga::SagaLimits{}.max_document_bytes;
  // StartSaga's inputs: how many, and their names and values together.
  std::size_t max_inputs = 1024;
  std::size_t max_input_bytes = 1 << 20;
  // ListSagas: the default page and the largest page asked for (the node caps it too).
  std::uint32_t default_list_limit = 100;
  std::uint32_t max_list_limit = 1000;
};

// The gRPC status of a Status: codes map one to one, the message is kept.
grpc::Status ToGrpcStatus(const Status& status);

// Requests. Each error names the field ("saga_id: ...").
Result<SagaDefineRequest> FromProto(const trinity::v1::DefineSagaRequest& request,
                                    const SagaApiLimits& limits);
Result<SagaStartRequest> FromProto(const trinity::v1::StartSagaRequest& request,
                                   const SagaApiLimits& limits);
Result<SagaListRequest> FromProto(const trinity::v1::ListSagasRequest& request,
                                  const SagaApiLimits& limits);
// A saga id given by a client (GetSaga, AbortSaga, WatchSaga): saga::ValidateSagaId.
Status CheckSagaId(std::string_view saga_id);

// Replies.
void ToProto(const SagaDefineReply& reply, trinity::v1::DefineSagaResponse* out);
void ToProto(const SagaStartReply& reply, trinity::v1::StartSagaResponse* out);
void ToProto(const SagaView& view, trinity::v1::Saga* out);
void ToProto(const SagaListReply& reply, trinity::v1::ListSagasResponse* out);
void ToProto(const SagaEventView& event, trinity::v1::SagaEvent* out);

}  // namespace tri::server
