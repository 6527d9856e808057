#pragma once

// etcd's concurrency recipes (clientv3/concurrency: mutex, election) over the
// KV, Watch and Lease services of one gRPC channel, so they run against etcd
// and Trinity alike. The node's v3lock / v3election / trinity.v1.Elections
// services run them against the node itself over an in-process channel
// (server/election_services.h); `tri elect` runs them against a cluster.
//
// The recipes, as etcd's:
// - A lock or election NAME is the key prefix "NAME/"; a contender's key is
//   "NAME/<lease id in hex>", written under its lease with a txn that puts it
//   only when it does not exist (create_revision == 0), so a retry with the
//   same lease finds its own key again.
// - The contender with the smallest create revision holds the lock / leads.
//   A waiter watches, one at a time, the newest key created before its own
//   (Range with max_create_revision, sorted by create revision, limit 1) until
//   it is deleted; when none is left, it holds the lock. A holder's key goes
//   when it unlocks / resigns or when its lease ends (expiry, revocation).
// - A leader's create revision (LeaderKey::rev) names its term: Proclaim and
//   Resign act only while the key still has that create revision. It is also
//   the term's fencing token, strictly increasing across terms.
//
// Every call of a recipe gets its gRPC context from RecipeClient::context, so
// a caller can cancel a wait (the node's services make each context a child
// of the server call: a client that goes away cancels the wait). Clean-up
// after a failed wait (deleting the waiter's own key) uses a fresh context
// bounded by cleanup_timeout, as etcd uses the client's own context there.

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "mvccpb/kv.pb.h"

namespace tri::client {

// etcd's election errors (clientv3/concurrency), with their messages.
inline constexpr std::string_view kElectionNotLeaderMessage = "election: not leader";
inline constexpr std::string_view kElectionNoLeaderMessage = "election: no leader";
// Status of ErrElectionNotLeader: kFailedPrecondition with etcd's message.
Status ElectionNotLeader();
// Status of ErrElectionNoLeader: kNotFound with etcd's message.
Status ElectionNoLeader();
// True for exactly the two statuses above (the services map them back to
// etcd's answer).
bool IsElectionNotLeader(const Status& status);
bool IsElectionNoLeader(const Status& status);

using ContextFactory = std::function<std::unique_ptr<grpc::ClientContext>()>;

class RecipeClient {
 public:
  // `context` makes the context of every call of a recipe; by default a plain
  // one without a deadline (waits last until they end or fail). `cleanup`
  // makes the context of a clean-up call; by default a plain one with a
  // deadline of `cleanup_timeout`.
  // `closed` true: every call of a recipe fails with kUnavailable without
  // being made (the node's services after their server began stopping).
  explicit RecipeClient(std::shared_ptr<grpc::Channel> channel, ContextFactory context = {},
                        std::chrono::milliseconds cleanup_timeout = std::chrono::seconds(5),
                        ContextFactory cleanup = {}, std::function<bool()> closed = {});

  // Unavailable once `closed` says so: checked before every call.
  Status CheckOpen() const;

  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // A context not tied to the caller's: for clean-up after a failure.
  std::unique_ptr<grpc::ClientContext> NewCleanupContext() const;

  etcdserverpb::KV::Stub& kv() const { return *kv_; }
  etcdserverpb::Watch::Stub& watch() const { return *watch_; }
  etcdserverpb::Lease::Stub& lease() const { return *lease_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  ContextFactory context_;
  std::chrono::milliseconds cleanup_timeout_;
  ContextFactory cleanup_;
  std::function<bool()> closed_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

// The key of the contender holding `lease` under `name`: "NAME/<lease hex>".
std::string ContenderKey(std::string_view name, std::int64_t lease);

// ---- Mutex (v3lock) -------------------------------------------------------

struct Locked {
  std::string key;
  // Of the read that found no older contender (etcd's Mutex.Header()).
  etcdserverpb::ResponseHeader header;
};

// Waits until the contender key of `lease` under `name` is the oldest; on a
// failed wait deletes that key again. Errors: the server's (a lease that does
// not exist: NotFound "etcdserver: requested lease not found"), a cancelled
// context.
Result<Locked> Lock(const RecipeClient& client, std::string_view name, std::int64_t lease);

// Deletes `key` (whether or not it holds the lock, as etcd).
Result<etcdserverpb::ResponseHeader> Unlock(const RecipeClient& client, std::string_view key);

// ---- Election (v3election) ------------------------------------------------

struct LeaderKey {
  std::string name;
  std::string key;
  std::int64_t rev = 0;  // the key's create revision: the term, and its fencing token
  std::int64_t lease = 0;
};

struct Campaigned {
  etcdserverpb::ResponseHeader header;  // of the txn that wrote the key
  LeaderKey leader;
};

// Puts `value` at the contender key of `lease` (or finds it, proclaiming
// `value` when it differs) and waits until it leads. A wait cancelled by the
// caller resigns.
Result<Campaigned> Campaign(const RecipeClient& client, std::string_view name, std::int64_t lease,
                            std::string_view value);

// The recipe with a contender key the caller picks (under `prefix`, which
// ends with '/'), as the native elections do: `leader.name` is `prefix`. With
// `wait` false it does not wait: a contender that does not lead at once
// removes its key again and gets kDeadlineExceeded.
Result<Campaigned> CampaignKey(const RecipeClient& client, std::string_view prefix,
                               std::string_view key, std::int64_t lease, std::string_view value,
                               bool wait);

// Sets the leader's value while `leader` still leads: ElectionNotLeader() when
// its key is gone or has another create revision.
Result<etcdserverpb::ResponseHeader> Proclaim(const RecipeClient& client, const LeaderKey& leader,
                                              std::string_view value);

struct LeaderValue {
  etcdserverpb::ResponseHeader header;
  mvccpb::KeyValue kv;
};

// The current leader's key and value: ElectionNoLeader() when there is none.
Result<LeaderValue> Leader(const RecipeClient& client, std::string_view name);
// The same for the contenders under `prefix` (ending with '/').
Result<LeaderValue> LeaderUnder(const RecipeClient& client, std::string_view prefix);

// Deletes the leader key if it still has the leader's create revision (a no-op
// otherwise, as etcd).
Result<etcdserverpb::ResponseHeader> Resign(const RecipeClient& client, const LeaderKey& leader);

// Calls `on_leader` with the leader when observing starts (or when the first
// one appears), with every proclaimed value, and with each next leader, in
// order; returns ok when `on_leader` returns false, the error when a read or
// watch fails (a cancelled context included).
Status Observe(const RecipeClient& client, std::string_view name,
               const std::function<bool(const LeaderValue&)>& on_leader);

}  // namespace tri::client
