#include "client/lock_bench.h"

#include <grpcpp/client_context.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

#include "client/etcd_client.h"
#include "client/failover.h"
#include "client/find_leader.h"
#include "client/grpc_status.h"
#include "client/lease_client.h"
#include "trinity/v1/coordination.grpc.pb.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace tri::client {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// One session lease per client, granted up front, kept alive by one thread
// every third of the TTL, revoked when this goes away.
class SessionLeases {
 public:
  static Result<std::unique_ptr<SessionLeases>> Grant(const LockBenchOptions& o, int count) {
    ClientOptions copts;
    copts.endpoints = o.endpoints;
    copts.tls = o.tls;
    copts.dial_timeout = o.dial_timeout;
    copts.command_timeout = o.request_timeout;
    TRI_ASSIGN_OR_RETURN(auto client, LeaseClient::Connect(copts));
    std::unique_ptr<SessionLeases> leases(new SessionLeases(std::move(client), o.lease_ttl_s));
    for (int i = 0; i < count; ++i) {
      auto granted = leases->client_->Grant(o.lease_ttl_s);
      if (!granted.ok())
        return Status(granted.status().code(), "bench lock: granting session lease " +
                                                   std::to_string(i) + ": " +
                                                   granted.status().message());
      leases->ids_.push_back(granted->id());
    }
    leases->keeper_ = std::thread([raw = leases.get()] { raw->KeepAliveLoop(); });
    return leases;
  }

  ~SessionLeases() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    if (keeper_.joinable()) keeper_.join();
    for (std::int64_t id : ids_)
      (void)client_->Revoke(id);  // best effort: the TTL ends them otherwise
  }

  std::int64_t id(int i) const { return ids_[static_cast<std::size_t>(i)]; }

 private:
  SessionLeases(std::unique_ptr<LeaseClient> client, std::int64_t ttl_s)
      : client_(std::move(client)), ttl_s_(ttl_s) {}

  void KeepAliveLoop() {
    const auto period = std::chrono::milliseconds(ttl_s_ * 1000 / 3);
    std::unique_lock lock(mu_);
    while (!wake_.wait_for(lock, period, [this] { return stop_; })) {
      for (std::int64_t id : ids_)
        (void)client_->KeepAliveOnce(id);  // a lost lease shows up as failed acquires
    }
  }

  std::unique_ptr<LeaseClient> client_;
  std::int64_t ttl_s_;
  std::vector<std::int64_t> ids_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread keeper_;
};

// One acquire or release call on one connection.
struct Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v3lockpb::Lock::Stub> etcd;
  std::unique_ptr<trinity::v1::Locks::Stub> native;
};

// What a client needs to release what it acquired.
struct Hold {
  std::string etcd_key;
};

class LockCaller {
 public:
  LockCaller(const LockBenchOptions& o, Connection& conn, std::string name, std::string owner,
             std::int64_t lease)
      : o_(o), conn_(conn), name_(std::move(name)), owner_(std::move(owner)), lease_(lease) {}

  Result<Hold> Acquire() {
    grpc::ClientContext ctx;
    // A native acquire waits at most request_timeout on the server; the call's
    // deadline leaves it a second to answer.
    ctx.set_deadline(std::chrono::system_clock::now() + o_.request_timeout +
                     std::chrono::seconds(1));
    if (o_.api == LockApi::kEtcd) {
      v3lockpb::LockRequest req;
      req.set_name(name_);
      req.set_lease(lease_);
      v3lockpb::LockResponse resp;
      grpc::Status st = conn_.etcd->Lock(&ctx, req, &resp);
      if (!st.ok()) return FromGrpcStatus(st);
      return Hold{resp.key()};
    }
    trinity::v1::AcquireLockRequest req;
    req.set_name(name_);
    req.set_owner(owner_);
    req.set_lease(lease_);
    req.set_wait_timeout_ms(static_cast<std::uint64_t>(o_.request_timeout.count()));
    trinity::v1::AcquireLockResponse resp;
    grpc::Status st = conn_.native->Acquire(&ctx, req, &resp);
    if (!st.ok()) return FromGrpcStatus(st);
    if (!resp.acquired())
      return DeadlineExceeded("lock \"" + name_ + "\": not acquired within --request-timeout");
    return Hold{};
  }

  Status Release(const Hold& hold) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + o_.request_timeout);
    grpc::Status st;
    if (o_.api == LockApi::kEtcd) {
      v3lockpb::UnlockRequest req;
      req.set_key(hold.etcd_key);
      v3lockpb::UnlockResponse resp;
      st = conn_.etcd->Unlock(&ctx, req, &resp);
    } else {
      trinity::v1::ReleaseLockRequest req;
      req.set_name(name_);
      req.set_owner(owner_);
      trinity::v1::ReleaseLockResponse resp;
      st = conn_.native->Release(&ctx, req, &resp);
    }
    return st.ok() ? Status::Ok() : FromGrpcStatus(st);
  }

 private:
  const LockBenchOptions& o_;
  Connection& conn_;
  std::string name_;
  std::string owner_;
  std::int64_t lease_;
};

// Per lock: when its holder last sent a release (steady ns; 0 = never).
struct LockTiming {
  std::atomic<std::int64_t> release_sent_ns{0};
};

}  // namespace

Status ValidateLockBenchOptions(const LockBenchOptions& o) {
  if (o.endpoints.empty()) return InvalidArgument("bench lock: --endpoints is empty");
  if (o.clients < 1 || o.clients > kMaxLockBenchClients)
    return InvalidArgument("bench lock: --clients must be in 1.." +
                           std::to_string(kMaxLockBenchClients));
  if (o.locks < 1 || o.locks > o.clients)
    return InvalidArgument("bench lock: --locks must be in 1..--clients (" +
                           std::to_string(o.clients) + "), not " + std::to_string(o.locks));
  if (o.conns < 1 || o.conns > kMaxLockBenchConns)
    return InvalidArgument("bench lock: --conns must be in 1.." +
                           std::to_string(kMaxLockBenchConns));
  if (o.cycles < 1 || o.cycles > kMaxLockBenchCycles)
    return InvalidArgument("bench lock: --cycles must be in 1.." +
                           std::to_string(kMaxLockBenchCycles));
  if (o.lease_ttl_s < 3 || o.lease_ttl_s > kMaxLockBenchLeaseTtlSeconds)
    return InvalidArgument("bench lock: --lease-ttl must be in 3.." +
                           std::to_string(kMaxLockBenchLeaseTtlSeconds) + " seconds");
  if (o.prefix.empty() || o.prefix.size() > kMaxLockBenchPrefixBytes)
    return InvalidArgument("bench lock: --prefix must be 1.." +
                           std::to_string(kMaxLockBenchPrefixBytes) + " bytes");
  if (o.request_timeout.count() <= 0)
    return InvalidArgument("bench lock: --request-timeout must be positive");
  return Status::Ok();
}

Result<LockBenchReport> RunLockBench(const LockBenchOptions& o) {
  TRI_RETURN_IF_ERROR(ValidateLockBenchOptions(o));
  TRI_ASSIGN_OR_RETURN(auto leases, SessionLeases::Grant(o, o.clients));

  std::vector<std::string> targets = o.endpoints;
  if (o.target_leader) {
    TRI_ASSIGN_OR_RETURN(std::string leader,
                         FindLeaderEndpoint(o.endpoints, o.tls, o.dial_timeout, o.request_timeout));
    targets = {leader};
  }
  std::vector<Connection> conns(static_cast<std::size_t>(o.conns));
  const Clock::time_point dial_deadline = Clock::now() + o.dial_timeout;
  for (int c = 0; c < o.conns; ++c) {
    const std::string& target = targets[static_cast<std::size_t>(c) % targets.size()];
    Connection& conn = conns[static_cast<std::size_t>(c)];
    conn.channel = DialChannel(target, c, ClientOptions{}.max_receive_message_bytes, o.tls);
    if (!conn.channel->WaitForConnected(std::chrono::system_clock::now() +
                                        (dial_deadline - Clock::now())))
      return DeadlineExceeded("bench lock: connection " + std::to_string(c) + " to " + target +
                              " not established within the dial timeout");
    conn.etcd = v3lockpb::Lock::NewStub(conn.channel);
    conn.native = trinity::v1::Locks::NewStub(conn.channel);
  }

  std::vector<LockTiming> timing(static_cast<std::size_t>(o.locks));
  std::vector<double> cycle_ms(o.cycles, -1), acquire_ms(o.cycles, -1), handover_ms(o.cycles, -1);
  std::atomic<std::uint64_t> next{0}, completed{0}, errors{0};
  std::mutex error_mu;
  std::string first_error;
  auto record_error = [&](const Status& st) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(error_mu);
    if (first_error.empty()) first_error = st.ToString();
  };
  const std::string owner_base = "tri-bench-" + std::to_string(::getpid()) + "-";

  auto client_loop = [&](int c) {
    const int lock_index = c % o.locks;
    LockTiming& lt = timing[static_cast<std::size_t>(lock_index)];
    LockCaller caller(o, conns[static_cast<std::size_t>(c % o.conns)],
                      o.prefix + "/" + std::to_string(lock_index), owner_base + std::to_string(c),
                      leases->id(c));
    for (;;) {
      const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= o.cycles) return;
      const Clock::time_point sent = Clock::now();
      auto hold = caller.Acquire();
      const Clock::time_point granted = Clock::now();
      if (!hold.ok()) {
        record_error(hold.status());
        continue;
      }
      // The previous holder's release, if it came after this acquire was sent,
      // is what handed the lock over.
      const std::int64_t released = lt.release_sent_ns.load();
      if (released > Nanos(sent))
        handover_ms[i] = static_cast<double>(Nanos(granted) - released) / 1e6;
      lt.release_sent_ns.store(Nanos(Clock::now()));
      if (Status st = caller.Release(*hold); !st.ok()) {
        record_error(st);
        continue;
      }
      const Clock::time_point done = Clock::now();
      acquire_ms[i] = MsBetween(sent, granted);
      cycle_ms[i] = MsBetween(sent, done);
      completed.fetch_add(1, std::memory_order_relaxed);
    }
  };

  const Clock::time_point begin = Clock::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(o.clients));
    for (int c = 0; c < o.clients; ++c)
      threads.emplace_back(client_loop, c);
  }
  const double elapsed_s = MsBetween(begin, Clock::now()) / 1000.0;

  auto kept = [](const std::vector<double>& all) {
    std::vector<double> out;
    for (double v : all)
      if (v >= 0) out.push_back(v);
    return out;
  };
  LockBenchReport r;
  r.api = o.api == LockApi::kEtcd ? "etcd" : "native";
  r.target_leader = o.target_leader;
  r.clients = o.clients;
  r.locks = o.locks;
  r.cycles = o.cycles;
  r.completed = completed.load();
  r.errors = errors.load();
  r.first_error = first_error;
  r.elapsed_s = elapsed_s;
  r.cycles_per_s = elapsed_s > 0 ? static_cast<double>(r.completed) / elapsed_s : 0;
  auto cycles = kept(cycle_ms), acquires = kept(acquire_ms), handovers = kept(handover_ms);
  r.cycle = Summarize(cycles);
  r.acquire = Summarize(acquires);
  r.handover = Summarize(handovers);
  return r;
}

std::string LockBenchReportJson(const LockBenchReport& r) {
  return nlohmann::json{{"op", "lock"},
                        {"api", r.api},
                        {"clients", r.clients},
                        {"locks", r.locks},
                        {"target_leader", r.target_leader},
                        {"cycles", r.cycles},
                        {"completed", r.completed},
                        {"errors", r.errors},
                        {"first_error", r.first_error},
                        {"elapsed_s", r.elapsed_s},
                        {"cycles_per_s", r.cycles_per_s},
                        {"cycle_latency", LatencySummaryJson(r.cycle)},
                        {"acquire_latency", LatencySummaryJson(r.acquire)},
                        {"handover_latency", LatencySummaryJson(r.handover)}}
      .dump();
}

std::string LockBenchReportText(const LockBenchReport& r) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "lock (%s API), %d clients on %d locks: %llu cycles, %llu completed, %llu errors "
                "in %.2fs\n"
                "  cycles/s:\t%.1f\n",
                r.api.c_str(), r.clients, r.locks, static_cast<unsigned long long>(r.cycles),
                static_cast<unsigned long long>(r.completed),
                static_cast<unsigned long long>(r.errors), r.elapsed_s, r.cycles_per_s);
  std::string out = buf;
  out += "  cycle:\t\t" + LatencySummaryText(r.cycle) + "\n";
  out += "  acquire:\t" + LatencySummaryText(r.acquire) + "\n";
  out += "  hand-over:\t" + LatencySummaryText(r.handover) + "\n";
  if (!r.first_error.empty()) out += "  first error:\t" + r.first_error + "\n";
  return out;
}

}  // namespace tri::client
