#pragma once

// What the gRPC clients (EtcdClient, SagaClient, LeaseClient, ...) share:
// dialling one channel per endpoint, waiting for the first of them to connect,
// and calling with failover: a call that fails with UNAVAILABLE moves on to the
// next endpoint, each at most once, all within one command deadline; the
// endpoint that answered is tried first next.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/client_tls.h"
#include "client/grpc_status.h"

namespace tri::client {

using SteadyClock = std::chrono::steady_clock;

// gRPC deadlines are system-clock times; ours are steady.
inline std::chrono::system_clock::time_point ToSystemDeadline(SteadyClock::time_point deadline) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(deadline -
                                                                         SteadyClock::now());
}

// Opens a dedicated channel to `endpoint` (with TLS as client_tls.h says). Channels
// with different `connection_index` never share a TCP connection, so a benchmark can
// spread clients over several connections as etcd's benchmark does with --conns.
std::shared_ptr<grpc::Channel> DialChannel(const std::string& endpoint, int connection_index,
                                           int max_receive_message_bytes, const ClientTls& tls);

// One `Endpoint` per target of `options` (ClientOptions: endpoints,
// max_receive_message_bytes, tls), each with its target and a dedicated
// channel; `make_stubs(endpoint)` then makes the client's stubs on it.
template <typename Endpoint, typename Options, typename MakeStubs>
std::vector<Endpoint> DialEndpoints(const Options& options, MakeStubs make_stubs) {
  std::vector<Endpoint> endpoints;
  for (const std::string& target : options.endpoints) {
    Endpoint ep;
    ep.target = target;
    ep.channel = DialChannel(target, 0, options.max_receive_message_bytes, options.tls);
    make_stubs(ep);
    endpoints.push_back(std::move(ep));
  }
  return endpoints;
}

// Starts connecting every channel and returns the index of the first that is
// ready within `dial_timeout`; DeadlineExceeded naming the targets otherwise.
Result<std::size_t> FirstReadyChannel(const std::vector<grpc::Channel*>& channels,
                                      const std::vector<std::string>& targets,
                                      std::chrono::milliseconds dial_timeout);

// FirstReadyChannel over the channels of endpoints made by DialEndpoints.
template <typename Endpoint>
Result<std::size_t> FirstReadyEndpoint(const std::vector<Endpoint>& endpoints,
                                       std::chrono::milliseconds dial_timeout) {
  std::vector<grpc::Channel*> channels;
  std::vector<std::string> targets;
  for (const Endpoint& ep : endpoints) {
    channels.push_back(ep.channel.get());
    targets.push_back(ep.target);
  }
  return FirstReadyChannel(channels, targets, dial_timeout);
}

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
