#pragma once

// client::RunWatch: one etcd v3 watch over gRPC that survives the loss of the
// member serving it. When the stream breaks (the member died, a network
// error), it reconnects to the next endpoint of the list and creates the watch
// again from the revision after the last event it delivered, so the caller sees
// every event once, in order, with no gap and no duplicate. It ends when the
// server cancels the watch (compaction, a refused create), when `on_response`
// returns false, or when no endpoint accepts a connection for
// `reconnect_timeout`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/client_tls.h"
#include "etcdserverpb/rpc.pb.h"

namespace tri::client {

struct WatchClientOptions {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  std::chrono::milliseconds dial_timeout{2000};
  // How long to go on trying endpoints, round after round, after a stream broke.
  std::chrono::milliseconds reconnect_timeout{60000};
  int max_receive_message_bytes = 64 << 20;
  // TLS (client_tls.h): which endpoints use it and with what certificates.
  ClientTls tls;
};

// The watch's create request (key, range_end, start_revision, prev_kv, ...);
// watch_id and fragment are the client's own.
using WatchSpec = etcdserverpb::WatchCreateRequest;

// How a watch ended.
struct WatchEnd {
  // Ok when `on_response` asked to stop; the server's cancel (with etcd's
  // message for a compacted revision) or the connection failure otherwise.
  Status status;
  bool canceled_by_server = false;
  std::int64_t compact_revision = 0;
};

// Calls `on_response` with every response that has events or is a progress
// notification, and last with the server's cancel (never the created
// response), in order. The responses are
// etcd's; after a reconnect the header's member is the new one.
WatchEnd RunWatch(const WatchClientOptions& options, WatchSpec spec,
                  const std::function<bool(const etcdserverpb::WatchResponse&)>& on_response);

}  // namespace tri::client
