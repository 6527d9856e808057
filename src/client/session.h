#pragma once

// client::Session (etcd's concurrency.Session): a lease kept alive on a thread
// of its own for as long as the session lives, for a lock or election holder
// whose leadership must end when the process does. Close() (and the
// destructor) stop the keep-alives and revoke the lease, so whatever was held
// under it is released at once; a process killed without closing lets the
// lease expire after its TTL.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "base/result.h"
#include "base/status.h"
#include "client/concurrency.h"

namespace tri::client {

class Session {
 public:
  // Grants a lease of `ttl_s` seconds (etcd's default session TTL is 60).
  static Result<std::unique_ptr<Session>> Start(const RecipeClient& client, std::int64_t ttl_s);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  std::int64_t lease() const { return lease_; }
  // True once the keep-alives ended (the lease is gone or the stream failed):
  // whatever the session held may be lost.
  bool expired() const;
  // Stops the keep-alives and revokes the lease (idempotent).
  Status Close();

 private:
  Session(const RecipeClient& client, std::int64_t lease, std::int64_t ttl_s);
  void KeepAlive();

  const RecipeClient& client_;
  const std::int64_t lease_;
  const std::int64_t ttl_s_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  bool expired_ = false;
  bool closed_ = false;
  std::unique_ptr<grpc::ClientContext> stream_context_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace tri::client
