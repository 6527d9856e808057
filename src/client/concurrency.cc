#include "client/concurrency.h"

#include <fmt/format.h>
#include <grpcpp/support/sync_stream.h>

#include <utility>

#include "client/etcdctl_ops.h"
#include "client/grpc_status.h"

namespace tri::client {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;
using etcdserverpb::RangeResponse;
using etcdserverpb::ResponseHeader;
using etcdserverpb::TxnRequest;
using etcdserverpb::TxnResponse;

Result<RangeResponse> CallRange(const RecipeClient& client, const RangeRequest& request) {
  TRI_RETURN_IF_ERROR(client.CheckOpen());
  auto context = client.NewContext();
  RangeResponse response;
  const grpc::Status status = client.kv().Range(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

Result<TxnResponse> CallTxn(const RecipeClient& client, const TxnRequest& request) {
  TRI_RETURN_IF_ERROR(client.CheckOpen());
  auto context = client.NewContext();
  TxnResponse response;
  const grpc::Status status = client.kv().Txn(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

Result<ResponseHeader> DeleteKey(const RecipeClient& client, std::string_view key,
                                 std::unique_ptr<grpc::ClientContext> context) {
  TRI_RETURN_IF_ERROR(client.CheckOpen());
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(std::string(key));
  etcdserverpb::DeleteRangeResponse response;
  const grpc::Status status = client.kv().DeleteRange(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response.header();
}

// Compare create_revision(key) == revision.
Compare CreateRevisionIs(std::string_view key, std::int64_t revision) {
  Compare compare;
  compare.set_key(std::string(key));
  compare.set_target(Compare::CREATE);
  compare.set_result(Compare::EQUAL);
  compare.set_create_revision(revision);
  return compare;
}

// The oldest key under `prefix` (etcd's WithFirstCreate).
RangeRequest FirstCreated(std::string_view prefix) {
  RangeRequest request;
  request.set_key(std::string(prefix));
  request.set_range_end(PrefixRangeEnd(prefix));
  request.set_sort_target(RangeRequest::CREATE);
  request.set_sort_order(RangeRequest::ASCEND);
  request.set_limit(1);
  return request;
}

// The txn both recipes start with: put `value` at `key` under `lease` unless
// the key exists, else read it; then (`then_owner`) read the oldest key of
// `prefix`.
TxnRequest PutIfAbsent(std::string_view key, std::string_view value, std::int64_t lease,
                       std::string_view owner_prefix) {
  TxnRequest txn;
  *txn.add_compare() = CreateRevisionIs(key, 0);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(std::string(key));
  put->set_value(std::string(value));
  put->set_lease(lease);
  auto* get = txn.add_failure()->mutable_request_range();
  get->set_key(std::string(key));
  if (!owner_prefix.empty()) {
    *txn.add_success()->mutable_request_range() = FirstCreated(owner_prefix);
    *txn.add_failure()->mutable_request_range() = FirstCreated(owner_prefix);
  }
  return txn;
}

// A watch of [key, range_end) from `start_revision` on its own stream.
class WatchStream {
 public:
  WatchStream(const RecipeClient& client, std::string_view key, std::string range_end,
              std::int64_t start_revision)
      : context_(client.NewContext()) {
    open_ = client.CheckOpen();
    if (!open_.ok()) {
      finished_ = true;
      return;
    }
    stream_ = client.watch().Watch(context_.get());
    etcdserverpb::WatchRequest request;
    auto* create = request.mutable_create_request();
    create->set_key(std::string(key));
    create->set_range_end(std::move(range_end));
    create->set_start_revision(start_revision);
    write_ok_ = stream_->Write(request);
  }
  ~WatchStream() {
    if (finished_) return;
    context_->TryCancel();
    (void)stream_->Finish();
  }

  // The next response with events; an error when the stream ends or the
  // server cancels the watch (a compacted start revision).
  Result<etcdserverpb::WatchResponse> Next() {
    if (!open_.ok()) return open_;
    etcdserverpb::WatchResponse response;
    while (write_ok_ && stream_->Read(&response)) {
      if (response.canceled()) {
        if (response.compact_revision() != 0)
          return OutOfRange(
              fmt::format("mvcc: required revision has been compacted (compact revision {})",
                          response.compact_revision()));
        return Cancelled("watch canceled by the server: " + response.cancel_reason());
      }
      if (response.events_size() > 0) return response;
    }
    write_ok_ = false;
    const grpc::Status status = stream_->Finish();
    finished_ = true;
    if (!status.ok()) return FromGrpcStatus(status);
    return Cancelled("watch stream closed by the server");
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
  Status open_;
  bool write_ok_ = false;
  bool finished_ = false;

 public:
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;
};

// Waits until `key` is deleted at or after `revision`.
Status WaitDelete(const RecipeClient& client, std::string_view key, std::int64_t revision) {
  WatchStream watch(client, key, "", revision);
  for (;;) {
    TRI_ASSIGN_OR_RETURN(etcdserverpb::WatchResponse response, watch.Next());
    for (const auto& event : response.events())
      if (event.type() == mvccpb::Event::DELETE) return Status();
  }
}

// Waits until no key under `prefix` has a create revision <= max_create_revision;
// returns the header of the read that found none.
Result<ResponseHeader> WaitDeletes(const RecipeClient& client, std::string_view prefix,
                                   std::int64_t max_create_revision) {
  RangeRequest newest_older;
  newest_older.set_key(std::string(prefix));
  newest_older.set_range_end(PrefixRangeEnd(prefix));
  newest_older.set_sort_target(RangeRequest::CREATE);
  newest_older.set_sort_order(RangeRequest::DESCEND);
  newest_older.set_limit(1);
  newest_older.set_max_create_revision(max_create_revision);
  for (;;) {
    TRI_ASSIGN_OR_RETURN(RangeResponse range, CallRange(client, newest_older));
    if (range.kvs_size() == 0) return range.header();
    TRI_RETURN_IF_ERROR(WaitDelete(client, range.kvs(0).key(), range.header().revision()));
  }
}

std::string Prefix(std::string_view name) {
  return std::string(name) + "/";
}

}  // namespace

Status ElectionNotLeader() {
  return FailedPrecondition(std::string(kElectionNotLeaderMessage));
}
Status ElectionNoLeader() {
  return NotFound(std::string(kElectionNoLeaderMessage));
}
bool IsElectionNotLeader(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message() == kElectionNotLeaderMessage;
}
bool IsElectionNoLeader(const Status& status) {
  return status.code() == StatusCode::kNotFound && status.message() == kElectionNoLeaderMessage;
}

RecipeClient::RecipeClient(std::shared_ptr<grpc::Channel> channel, ContextFactory context,
                           std::chrono::milliseconds cleanup_timeout, ContextFactory cleanup,
                           std::function<bool()> closed)
    : channel_(std::move(channel)),
      context_(std::move(context)),
      cleanup_timeout_(cleanup_timeout),
      cleanup_(std::move(cleanup)),
      closed_(std::move(closed)),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      watch_(etcdserverpb::Watch::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)) {}

Status RecipeClient::CheckOpen() const {
  if (closed_ && closed_()) return Unavailable("etcdserver: server stopped");
  return Status();
}

std::unique_ptr<grpc::ClientContext> RecipeClient::NewContext() const {
  if (context_) return context_();
  return std::make_unique<grpc::ClientContext>();
}

std::unique_ptr<grpc::ClientContext> RecipeClient::NewCleanupContext() const {
  if (cleanup_) return cleanup_();
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + cleanup_timeout_);
  return context;
}

std::string ContenderKey(std::string_view name, std::int64_t lease) {
  return fmt::format("{}/{:x}", name, lease);
}

Result<Locked> Lock(const RecipeClient& client, std::string_view name, std::int64_t lease) {
  const std::string prefix = Prefix(name);
  const std::string key = ContenderKey(name, lease);
  TRI_ASSIGN_OR_RETURN(TxnResponse txn, CallTxn(client, PutIfAbsent(key, "", lease, prefix)));
  std::int64_t my_revision = txn.header().revision();
  if (!txn.succeeded()) {
    const auto& own = txn.responses(0).response_range();
    if (own.kvs_size() == 0) return Internal("lock: the contender key vanished: " + key);
    my_revision = own.kvs(0).create_revision();
  }
  const auto& owner = txn.responses(1).response_range();
  if (owner.kvs_size() == 0 || owner.kvs(0).create_revision() == my_revision)
    return Locked{.key = key, .header = txn.header()};
  Result<ResponseHeader> waited = WaitDeletes(client, prefix, my_revision - 1);
  if (!waited.ok()) {
    (void)DeleteKey(client, key, client.NewCleanupContext());
    return waited.status();
  }
  return Locked{.key = key, .header = *waited};
}

Result<ResponseHeader> Unlock(const RecipeClient& client, std::string_view key) {
  return DeleteKey(client, key, client.NewContext());
}

Result<Campaigned> Campaign(const RecipeClient& client, std::string_view name, std::int64_t lease,
                            std::string_view value) {
  TRI_ASSIGN_OR_RETURN(Campaigned won, CampaignKey(client, Prefix(name), ContenderKey(name, lease),
                                                   lease, value, /*wait=*/true));
  won.leader.name = std::string(name);
  return won;
}

Result<Campaigned> CampaignKey(const RecipeClient& client, std::string_view prefix,
                               std::string_view key, std::int64_t lease, std::string_view value,
                               bool wait) {
  TRI_ASSIGN_OR_RETURN(TxnResponse txn,
                       CallTxn(client, PutIfAbsent(key, value, lease, wait ? "" : prefix)));
  LeaderKey leader{.name = std::string(prefix),
                   .key = std::string(key),
                   .rev = txn.header().revision(),
                   .lease = lease};
  if (!txn.succeeded()) {
    const auto& own = txn.responses(0).response_range();
    if (own.kvs_size() == 0) return Internal("campaign: the candidate key vanished: " + leader.key);
    leader.rev = own.kvs(0).create_revision();
    leader.lease = own.kvs(0).lease();
    if (own.kvs(0).value() != value) {
      Result<ResponseHeader> proclaimed = Proclaim(client, leader, value);
      if (!proclaimed.ok()) {
        (void)DeleteKey(client, key, client.NewCleanupContext());
        return proclaimed.status();
      }
    }
  }
  if (!wait) {
    const auto& owner = txn.responses(1).response_range();
    if (owner.kvs_size() > 0 && owner.kvs(0).create_revision() == leader.rev)
      return Campaigned{.header = txn.header(), .leader = std::move(leader)};
    (void)Resign(client, leader);
    return DeadlineExceeded(fmt::format("campaign: {} does not lead and may not wait", key));
  }
  Result<ResponseHeader> waited = WaitDeletes(client, prefix, leader.rev - 1);
  if (!waited.ok()) {
    // etcd resigns only when the caller gave up; a failed read or watch leaves
    // the key to its lease. A cancelled wait shows as kCancelled here.
    if (waited.status().code() == StatusCode::kCancelled ||
        waited.status().code() == StatusCode::kDeadlineExceeded) {
      TxnRequest resign;
      *resign.add_compare() = CreateRevisionIs(key, leader.rev);
      resign.add_success()->mutable_request_delete_range()->set_key(std::string(key));
      if (client.CheckOpen().ok()) {
        auto context = client.NewCleanupContext();
        TxnResponse ignored;
        (void)client.kv().Txn(context.get(), resign, &ignored);
      }
    }
    return waited.status();
  }
  return Campaigned{.header = txn.header(), .leader = std::move(leader)};
}

Result<ResponseHeader> Proclaim(const RecipeClient& client, const LeaderKey& leader,
                                std::string_view value) {
  TxnRequest txn;
  *txn.add_compare() = CreateRevisionIs(leader.key, leader.rev);
  auto* put = txn.add_success()->mutable_request_put();
  put->set_key(leader.key);
  put->set_value(std::string(value));
  put->set_lease(leader.lease);
  TRI_ASSIGN_OR_RETURN(TxnResponse response, CallTxn(client, txn));
  if (!response.succeeded()) return ElectionNotLeader();
  return response.header();
}

Result<LeaderValue> Leader(const RecipeClient& client, std::string_view name) {
  return LeaderUnder(client, Prefix(name));
}

Result<LeaderValue> LeaderUnder(const RecipeClient& client, std::string_view prefix) {
  TRI_ASSIGN_OR_RETURN(RangeResponse range, CallRange(client, FirstCreated(prefix)));
  if (range.kvs_size() == 0) return ElectionNoLeader();
  return LeaderValue{.header = range.header(), .kv = range.kvs(0)};
}

Result<ResponseHeader> Resign(const RecipeClient& client, const LeaderKey& leader) {
  TxnRequest txn;
  *txn.add_compare() = CreateRevisionIs(leader.key, leader.rev);
  txn.add_success()->mutable_request_delete_range()->set_key(leader.key);
  TRI_ASSIGN_OR_RETURN(TxnResponse response, CallTxn(client, txn));
  return response.header();
}

Status Observe(const RecipeClient& client, std::string_view name,
               const std::function<bool(const LeaderValue&)>& on_leader) {
  const std::string prefix = Prefix(name);
  for (;;) {
    TRI_ASSIGN_OR_RETURN(RangeResponse range, CallRange(client, FirstCreated(prefix)));
    LeaderValue leader;
    if (range.kvs_size() > 0) {
      leader = LeaderValue{.header = range.header(), .kv = range.kvs(0)};
    } else {
      // No leader: the first put under the prefix is the next one (a delete
      // there is of a key that never led).
      WatchStream puts(client, prefix, PrefixRangeEnd(prefix), range.header().revision());
      bool found = false;
      while (!found) {
        TRI_ASSIGN_OR_RETURN(etcdserverpb::WatchResponse response, puts.Next());
        for (const auto& event : response.events()) {
          if (event.type() != mvccpb::Event::PUT) continue;
          leader.header = response.header();
          leader.header.set_revision(event.kv().mod_revision());
          leader.kv = event.kv();
          found = true;
          break;
        }
      }
    }
    if (!on_leader(leader)) return Status();
    // The leader's proclaims until its key is deleted.
    WatchStream changes(client, leader.kv.key(), "", leader.header.revision() + 1);
    for (bool deleted = false; !deleted;) {
      TRI_ASSIGN_OR_RETURN(etcdserverpb::WatchResponse response, changes.Next());
      for (const auto& event : response.events()) {
        if (event.type() == mvccpb::Event::DELETE) {
          deleted = true;
          break;
        }
        if (!on_leader(LeaderValue{.header = response.header(), .kv = event.kv()})) return Status();
      }
    }
  }
}

}  // namespace tri::client
