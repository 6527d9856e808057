#pragma once

// What the gRPC clients (EtcdClient, SagaClient) share: waiting for the first
// of their endpoints to connect, and calling with failover: a call that fails
// with UNAVAILABLE moves on to the next endpoint, each at most once, all
// within one command deadline; the endpoint that answered is tried first next.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/grpc_status.h"

namespace tri::client {

using SteadyClock = std::chrono::steady_clock;

// gRPC deadlines are system-clock times; ours are steady.
inline std::chrono::system_clock::time_point ToSystemDeadline(SteadyClock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline -
                                                                         SteadyClock::now());
}

// Starts connecting every channel and returns the index of the first that is
// ready within `dial_timeout`; DeadlineExceeded naming the targets otherwise.
Result<std::size_t> FirstReadyChannel(const std::vector<grpc::Channel*>& channels,
                                      const std::vector<std::string>& targets,
                                      std::chrono::milliseconds dial_timeout);

// `rpc(endpoint, context, response)` -> grpc::Status, on endpoints[i] from
// `current` on. `current` is updated to the endpoint that answered.
template <typename Response, typename Endpoints, typename Rpc>
Result<Response> CallWithFailover(Endpoints& endpoints, std::atomic<std::size_t>& current,
                                  std::chrono::milliseconds command_timeout, Rpc rpc) {
  const SteadyClock::time_point deadline = SteadyClock::now() + command_timeout;
  const std::size_t first = current.load(std::memory_order_relaxed);
  grpc::Status last;
  for (std::size_t attempt = 0; attempt < endpoints.size(); ++attempt) {
    const std::size_t index = (first + attempt) % endpoints.size();
    grpc::ClientContext context;
    context.set_deadline(ToSystemDeadline(deadline));
    Response response;
    last = rpc(endpoints[index], context, response);
    if (last.ok()) {
      current.store(index, std::memory_order_relaxed);
      return response;
    }
    if (last.error_code() != grpc::StatusCode::UNAVAILABLE || SteadyClock::now() >= deadline) break;
  }
  return FromGrpcStatus(last);
}

}  // namespace tri::client
