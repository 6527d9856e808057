#include "client/saga_client.h"

#include <grpcpp/client_context.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <thread>

#include "client/failover.h"
#include "client/grpc_status.h"
#include "saga/saga_id.h"

namespace tri::client {
namespace {

using Clock = SteadyClock;

std::uint64_t UnixMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

// Ids from two clients started in the same millisecond must differ: the seed
// mixes the OS's entropy with the time and the process id.
std::uint64_t FreshSeed() {
  std::random_device device;
  const std::uint64_t entropy = (std::uint64_t{device()} << 32) ^ device();
  return entropy ^ static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) ^
         (static_cast<std::uint64_t>(::getpid()) << 17);
}

}  // namespace

SagaClient::SagaClient(ClientOptions options)
    : options_(std::move(options)),
      endpoints_(DialEndpoints<Endpoint>(
          options_, [](Endpoint& ep) { ep.stub = trinity::v1::Sagas::NewStub(ep.channel); })),
      rng_(FreshSeed()) {}

Result<std::unique_ptr<SagaClient>> SagaClient::Connect(ClientOptions options) {
  if (options.endpoints.empty()) return InvalidArgument("saga client: no endpoints given");
  std::unique_ptr<SagaClient> client(new SagaClient(std::move(options)));
  TRI_ASSIGN_OR_RETURN(client->current_,
                       FirstReadyEndpoint(client->endpoints_, client->options_.dial_timeout));
  return client;
}

template <typename Response, typename Rpc>
Result<Response> SagaClient::CallWithFailover(Rpc rpc) {
  return client::CallWithFailover<Response>(endpoints_, current_, options_.command_timeout,
                                            std::move(rpc));
}

std::string SagaClient::NewSagaId() {
  std::lock_guard lock(rng_mutex_);
  return saga::NewSagaId(UnixMs(), rng_);
}

Result<trinity::v1::DefineSagaResponse> SagaClient::Define(
    const trinity::v1::DefineSagaRequest& request) {
  return CallWithFailover<trinity::v1::DefineSagaResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, trinity::v1::DefineSagaResponse& out) {
        return ep.stub->DefineSaga(&ctx, request, &out);
      });
}

Result<trinity::v1::StartSagaResponse> SagaClient::Start(trinity::v1::StartSagaRequest request) {
  const bool generated = request.saga_id().empty();
  if (generated) request.set_saga_id(NewSagaId());
  auto reply = CallWithFailover<trinity::v1::StartSagaResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, trinity::v1::StartSagaResponse& out) {
        return ep.stub->StartSaga(&ctx, request, &out);
      });
  // A fresh ULID found existing can only be this call's own earlier attempt.
  if (reply.ok() && generated) reply->set_already_existed(false);
  return reply;
}

Result<trinity::v1::Saga> SagaClient::Get(const std::string& saga_id, bool serializable) {
  trinity::v1::GetSagaRequest request;
  request.set_saga_id(saga_id);
  request.set_serializable(serializable);
  auto reply = CallWithFailover<trinity::v1::GetSagaResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, trinity::v1::GetSagaResponse& out) {
        return ep.stub->GetSaga(&ctx, request, &out);
      });
  if (!reply.ok()) return reply.status();
  return std::move(*reply->mutable_saga());
}

Result<trinity::v1::ListSagasResponse> SagaClient::List(
    const trinity::v1::ListSagasRequest& request) {
  return CallWithFailover<trinity::v1::ListSagasResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, trinity::v1::ListSagasResponse& out) {
        return ep.stub->ListSagas(&ctx, request, &out);
      });
}

Result<trinity::v1::Saga> SagaClient::Abort(const std::string& saga_id) {
  trinity::v1::AbortSagaRequest request;
  request.set_saga_id(saga_id);
  auto reply = CallWithFailover<trinity::v1::AbortSagaResponse>(
      [&](Endpoint& ep, grpc::ClientContext& ctx, trinity::v1::AbortSagaResponse& out) {
        return ep.stub->AbortSaga(&ctx, request, &out);
      });
  if (!reply.ok()) return reply.status();
  return std::move(*reply->mutable_saga());
}

Status SagaClient::Watch(const std::string& saga_id, std::uint64_t from_position,
                         const std::function<bool(const trinity::v1::WatchSagaResponse&)>& on_batch,
                         const WatchOptions& options) {
  std::uint64_t next = from_position;
  std::size_t index = current_.load(std::memory_order_relaxed);
  int reconnects = 0;
  for (;;) {
    trinity::v1::WatchSagaRequest request;
    request.set_saga_id(saga_id);
    request.set_from_position(next);
    grpc::ClientContext context;
    auto reader = endpoints_[index].stub->WatchSaga(&context, request);
    trinity::v1::WatchSagaResponse batch;
    while (reader->Read(&batch)) {
      reconnects = 0;
      if (batch.events_size() > 0) next = batch.events(batch.events_size() - 1).position() + 1;
      if (!on_batch(batch)) {
        context.TryCancel();
        (void)reader->Finish();
        return Status(StatusCode::kCancelled, "watch of saga " + saga_id + " stopped");
      }
      if (batch.finished()) {
        context.TryCancel();  // the server ends the stream itself; do not wait for it
        (void)reader->Finish();
        current_.store(index, std::memory_order_relaxed);
        return Status::Ok();
      }
    }
    const grpc::Status status = reader->Finish();
    if (status.ok())
      return Internal("watch of saga " + saga_id + ": the stream ended before the saga finished");
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return FromGrpcStatus(status);
    if (++reconnects > options.max_reconnects)
      return FromGrpcStatus(status).WithContext("watch of saga " + saga_id + ": gave up after " +
                                                std::to_string(options.max_reconnects) +
                                                " reconnections");
    index = (index + 1) % endpoints_.size();
    std::this_thread::sleep_for(options.reconnect_backoff);
  }
}

}  // namespace tri::client
