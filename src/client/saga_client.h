#pragma once

// client::SagaClient: a synchronous client of trinity.v1.Sagas (sagas.proto,
// docs/sagas-api.md) over gRPC, with the endpoint list and failover of
// EtcdClient: a call that fails with UNAVAILABLE moves to the next endpoint,
// each at most once, all within the command timeout.
//
// Starting a saga is safe to retry: when the request names no saga id, the
// client generates one (a ULID) before the first attempt, so a retry after a
// lost reply finds the saga the first attempt started instead of starting a
// second one.
//
// Thread-safe: calls may be made from any number of threads at once.

#include <grpcpp/channel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/rng.h"
#include "client/etcd_client.h"
#include "trinity/v1/sagas.grpc.pb.h"

namespace tri::client {

struct WatchOptions {
  // Consecutive reconnections (UNAVAILABLE: the member went away) before Watch
  // gives up; a delivered batch resets the count.
  int max_reconnects = 20;
  // Pause before each reconnection.
  std::chrono::milliseconds reconnect_backoff{250};
};

class SagaClient {
 public:
  // Dials every endpoint and waits up to options.dial_timeout for one to be
  // connected; fails as EtcdClient::Connect does.
  static Result<std::unique_ptr<SagaClient>> Connect(ClientOptions options);

  Result<trinity::v1::DefineSagaResponse> Define(const trinity::v1::DefineSagaRequest& request);
  // Fills in a generated saga id when the request has none (see above).
  Result<trinity::v1::StartSagaResponse> Start(trinity::v1::StartSagaRequest request);
  Result<trinity::v1::Saga> Get(const std::string& saga_id, bool serializable = false);
  Result<trinity::v1::ListSagasResponse> List(const trinity::v1::ListSagasRequest& request);
  Result<trinity::v1::Saga> Abort(const std::string& saga_id);

  // Streams the saga's events from `from_position` to `on_batch`, in order and
  // without gaps, until the batch with `finished` (returns ok). When the stream
  // breaks with UNAVAILABLE the watch resumes on the next endpoint after the
  // last event delivered. `on_batch` returning false ends the watch with
  // kCancelled. Not bounded by the command timeout (a saga may run for hours).
  Status Watch(const std::string& saga_id, std::uint64_t from_position,
               const std::function<bool(const trinity::v1::WatchSagaResponse&)>& on_batch,
               const WatchOptions& options = {});

  const ClientOptions& options() const { return options_; }
  // The endpoint the next call tries first (the last one that answered).
  const std::string& current_endpoint() const {
    return endpoints_[current_.load(std::memory_order_relaxed)].target;
  }

 private:
  struct Endpoint {
    std::string target;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<trinity::v1::Sagas::Stub> stub;
  };

  explicit SagaClient(ClientOptions options);

  template <typename Response, typename Rpc>
  Result<Response> CallWithFailover(Rpc rpc);

  std::string NewSagaId();

  ClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::atomic<std::size_t> current_{0};
  std::mutex rng_mutex_;
  SeededRng rng_;
};

}  // namespace tri::client
