#include "client/watch_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <memory>
#include <thread>

#include "base/assert.h"
#include "client/etcd_client.h"
#include "client/failover.h"
#include "client/grpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace tri::client {
namespace {

// etcd's message for a watch started below the compact revision (clientv3's
// WatchResponse.Err()).
constexpr const char* kCompactedMessage = "etcdserver: mvcc: required revision has been compacted";

enum class StreamEnd { kStop, kCanceled, kBroken };

}  // namespace

WatchEnd RunWatch(const WatchClientOptions& options, WatchSpec spec,
                  const std::function<bool(const etcdserverpb::WatchResponse&)>& on_response) {
  if (options.endpoints.empty()) return WatchEnd{InvalidArgument("no endpoints given")};
  spec.set_watch_id(0);
  spec.set_fragment(false);
  // The first revision not yet delivered; 0 until known (a watch from "now"
  // learns it from the created response).
  std::int64_t next_revision = spec.start_revision();
  std::size_t endpoint = 0;
  auto broken_since = std::chrono::steady_clock::now();
  Status last_error = Unavailable("no endpoint was tried");
  for (;;) {
    const std::string& target = options.endpoints[endpoint];
    auto channel = DialChannel(target, 0, options.max_receive_message_bytes, options.tls);
    const bool connected =
        channel->WaitForConnected(std::chrono::system_clock::now() + options.dial_timeout);
    if (!connected) {
      last_error = Unavailable("cannot connect to " + target);
    } else {
      auto stub = etcdserverpb::Watch::NewStub(channel);
      grpc::ClientContext context;
      auto stream = stub->Watch(&context);
      etcdserverpb::WatchRequest request;
      *request.mutable_create_request() = spec;
      request.mutable_create_request()->set_start_revision(next_revision);
      StreamEnd end = StreamEnd::kBroken;
      WatchEnd result;
      if (stream->Write(request)) {
        etcdserverpb::WatchResponse response;
        while (stream->Read(&response)) {
          broken_since = std::chrono::steady_clock::now();
          if (response.canceled()) {
            result.canceled_by_server = true;
            result.compact_revision = response.compact_revision();
            if (response.compact_revision() != 0) {
              result.status = OutOfRange(kCompactedMessage);
            } else {
              result.status =
                  Cancelled(response.cancel_reason().empty() ? "watch is canceled by the server"
                                                             : response.cancel_reason());
            }
            end = StreamEnd::kCanceled;
            (void)on_response(response);
            break;
          }
          if (response.created()) {
            // Synced at creation: everything up to the header's revision is seen.
            if (next_revision == 0) next_revision = response.header().revision() + 1;
            continue;
          }
          if (response.events_size() > 0) {
            const std::int64_t last =
                response.events(response.events_size() - 1).kv().mod_revision();
            TRI_ASSERT(last >= next_revision);
            next_revision = last + 1;
          } else if (response.watch_id() != -1) {
            // A progress notification: the watcher has seen everything up to it.
            next_revision = std::max(next_revision, response.header().revision() + 1);
          }
          if (!on_response(response)) {
            end = StreamEnd::kStop;
            break;
          }
        }
      }
      if (end != StreamEnd::kBroken) {
        context.TryCancel();
        (void)stream->Finish();
        return end == StreamEnd::kStop ? WatchEnd{Status::Ok()} : result;
      }
      const grpc::Status status = stream->Finish();
      last_error = FromGrpcStatus(status);
    }
    if (std::chrono::steady_clock::now() - broken_since > options.reconnect_timeout) {
      return WatchEnd{last_error};
    }
    endpoint = (endpoint + 1) % options.endpoints.size();
    if (endpoint == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace tri::client
