#include "client/session.h"

#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <chrono>

#include "client/grpc_status.h"

namespace tri::client {

Result<std::unique_ptr<Session>> Session::Start(const RecipeClient& client, std::int64_t ttl_s) {
  if (ttl_s <= 0) return InvalidArgument("session: the lease TTL must be positive");
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_s);
  etcdserverpb::LeaseGrantResponse response;
  auto context = client.NewContext();
  const grpc::Status status = client.lease().LeaseGrant(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (!response.error().empty()) return Internal("session: lease grant: " + response.error());
  std::unique_ptr<Session> session(new Session(client, response.id(), response.ttl()));
  session->thread_ = std::thread([s = session.get()] { s->KeepAlive(); });
  return session;
}

Session::Session(const RecipeClient& client, std::int64_t lease, std::int64_t ttl_s)
    : client_(client), lease_(lease), ttl_s_(ttl_s) {}

Session::~Session() {
  (void)Close();
}

bool Session::expired() const {
  std::lock_guard lock(mu_);
  return expired_;
}

void Session::KeepAlive() {
  auto context = std::make_unique<grpc::ClientContext>();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stream_context_ = std::move(context);
  }
  auto stream = client_.lease().LeaseKeepAlive(stream_context_.get());
  // A third of the TTL between keep-alives, as etcd's client.
  const auto interval = std::chrono::milliseconds(std::max<std::int64_t>(ttl_s_ * 1000 / 3, 100));
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease_);
  for (;;) {
    etcdserverpb::LeaseKeepAliveResponse response;
    if (!stream->Write(request) || !stream->Read(&response) || response.ttl() <= 0) break;
    std::unique_lock lock(mu_);
    if (stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) break;
  }
  stream_context_->TryCancel();
  (void)stream->Finish();
  std::lock_guard lock(mu_);
  if (!stopping_) expired_ = true;
}

Status Session::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return Status();
    closed_ = true;
    stopping_ = true;
    if (stream_context_) stream_context_->TryCancel();
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease_);
  etcdserverpb::LeaseRevokeResponse response;
  auto context = client_.NewCleanupContext();
  const grpc::Status status = client_.lease().LeaseRevoke(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return Status();
}

}  // namespace tri::client
