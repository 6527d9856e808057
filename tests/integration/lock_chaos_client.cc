// lock_chaos_client: the clients of the lock chaos test (test_lock_chaos.py).
// `--clients` threads contend for `--locks` locks; each lock guards a counter.
// A client acquires a lock, reads the counter, and writes counter + 1 with a Txn
// fenced by its hold:
//   native  trinity.v1.Locks: compare value(fence key) == the hold's token;
//   etcd    v3lockpb.Lock: compare create_revision(lock key) == its creation
//           revision (the token: etcd's recipe), i.e. the key still exists.
// The Txn's success branch also writes `<prefix>/<lock>/applied/<client>/<seq>`
// = "<value written> <token>", so the history of every increment that
// applied, in log order (mod revision), can be read back at the end.
//
// Every increment attempt is one JSON line in --log: client, seq, lock,
// token, read, wrote, outcome ("ok": the Txn answered succeeded; "refused":
// answered not succeeded; "unknown": no answer, it may or may not have
// applied). Members fail under the test, so every call goes round the
// endpoints until it succeeds or the run ends; only the Txn is never retried
// (its outcome is what is checked).
//
// Zombie holders: with probability --zombie-percent per increment, a client
// stops between reading the counter and writing it (and stops keeping its
// lease alive) for longer than the lease's TTL, as a process in a long GC
// pause would; its lease expires, the lock passes on, and its late write must
// be refused by the fence.
//
// usage: lock_chaos_client --endpoints A,B,C --api native|etcd --log FILE
//          [--clients 16] [--locks 1] [--seconds 60] [--lease-ttl 3]
//          [--increments-per-hold 2] [--prefix chaos] [--zombie-percent 2]
//          [--no-fence]   (the Txn without its compare: the broken client the
//                          test's check must catch)
//        lock_chaos_client --endpoints A,B,C --api native|etcd --probe
//          exit 0 when the API is served, 3 when it is not (UNIMPLEMENTED).

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/endpoints.h"
#include "client/etcd_client.h"
#include "client/failover.h"
#include "etcdserverpb/rpc.grpc.pb.h"
#include "trinity/v1/coordination.grpc.pb.h"
#include "v3lockpb/v3lock.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> endpoints;
  bool native = true;
  std::string log_path;
  int clients = 16;
  int locks = 1;
  int seconds = 60;
  int lease_ttl_s = 3;
  int increments_per_hold = 2;
  int zombie_percent = 2;
  bool fence = true;
  std::string prefix = "chaos";
  bool probe = false;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "lock_chaos_client: %s\n", why.c_str());
  std::exit(2);
}

int IntFlag(const std::string& flag, const char* text, int lo, int hi) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi)
    Usage(flag + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
  return static_cast<int>(v);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  std::string api = "native";
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--probe") {
      o.probe = true;
      continue;
    }
    if (flag == "--no-fence") {
      o.fence = false;
      continue;
    }
    if (i + 1 >= argc) Usage(flag + " needs a value");
    const char* v = argv[++i];
    if (flag == "--endpoints") {
      auto eps = tri::client::ParseEndpoints(v);
      if (!eps.ok()) Usage("--endpoints: " + eps.status().message());
      o.endpoints = *eps;
    } else if (flag == "--api") {
      api = v;
    } else if (flag == "--log") {
      o.log_path = v;
    } else if (flag == "--clients") {
      o.clients = IntFlag(flag, v, 1, 256);
    } else if (flag == "--locks") {
      o.locks = IntFlag(flag, v, 1, 64);
    } else if (flag == "--seconds") {
      o.seconds = IntFlag(flag, v, 1, 24 * 3600);
    } else if (flag == "--lease-ttl") {
      o.lease_ttl_s = IntFlag(flag, v, 1, 3600);
    } else if (flag == "--increments-per-hold") {
      o.increments_per_hold = IntFlag(flag, v, 1, 1000);
    } else if (flag == "--zombie-percent") {
      o.zombie_percent = IntFlag(flag, v, 0, 100);
    } else if (flag == "--prefix") {
      o.prefix = v;
    } else {
      Usage("unknown flag " + flag);
    }
  }
  if (api != "native" && api != "etcd") Usage("--api must be native or etcd");
  o.native = api == "native";
  if (o.endpoints.empty()) Usage("--endpoints is required");
  if (!o.probe && o.log_path.empty()) Usage("--log is required");
  if (o.prefix.empty()) Usage("--prefix is empty");
  return o;
}

struct Endpoint {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<v3lockpb::Lock::Stub> etcd_lock;
  std::unique_ptr<trinity::v1::Locks::Stub> native_lock;
};

// The log, one JSON object per line, flushed per line (a crash keeps what was
// written).
class Log {
 public:
  explicit Log(const std::string& path) : file_(std::fopen(path.c_str(), "w")) {
    if (file_ == nullptr) Usage("cannot open --log " + path);
  }
  ~Log() { std::fclose(file_); }
  void Line(const std::string& line) {
    std::lock_guard lock(mu_);
    std::fputs(line.c_str(), file_);
    std::fputc('\n', file_);
    std::fflush(file_);
  }

 private:
  std::FILE* file_;
  std::mutex mu_;
};

class ChaosClient {
 public:
  ChaosClient(const Options& o, std::vector<Endpoint>& eps, Log* log, int index,
              Clock::time_point end)
      : o_(o),
        eps_(eps),
        log_(log),
        index_(index),
        end_(end),
        lock_index_(index % o.locks),
        lock_name_(o.prefix + "/lock/" + std::to_string(lock_index_)),
        owner_(o.prefix + "-client-" + std::to_string(index)),
        counter_key_(o.prefix + "/" + std::to_string(lock_index_) + "/counter"),
        current_(static_cast<std::size_t>(index) % eps.size()),
        rng_(static_cast<std::uint32_t>(index) * 7919u + 1) {}

  void Run() {
    std::thread keeper([this] { KeepAliveLoop(); });
    while (!Over()) {
      if (lease_.load() == 0 && !GrantLease()) continue;
      if (!Acquire()) continue;
      for (int k = 0; k < o_.increments_per_hold && !Over(); ++k)
        if (!Increment()) break;
      Release();
    }
    stop_ = true;
    keeper.join();
  }

 private:
  bool Over() const { return Clock::now() >= end_; }

  Endpoint& Ep() { return eps_[current_ % eps_.size()]; }
  void NextEndpoint() { current_ = (current_ + 1) % eps_.size(); }

  // A failed call: try the next member after a short pause.
  void Failed() {
    NextEndpoint();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  static void Deadline(grpc::ClientContext& ctx, std::chrono::milliseconds d) {
    ctx.set_deadline(std::chrono::system_clock::now() + d);
  }

  bool GrantLease() {
    grpc::ClientContext ctx;
    Deadline(ctx, std::chrono::seconds(2));
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(o_.lease_ttl_s);
    etcdserverpb::LeaseGrantResponse resp;
    if (!Ep().lease->LeaseGrant(&ctx, req, &resp).ok() || !resp.error().empty()) {
      Failed();
      return false;
    }
    lease_ = resp.id();
    return true;
  }

  // Keeps the current lease alive every third of its TTL; a lease found gone
  // is forgotten (the next acquire grants a new one).
  void KeepAliveLoop() {
    std::size_t ep = static_cast<std::size_t>(index_) % eps_.size();
    while (!stop_) {
      const std::int64_t id = lease_.load();
      if (id != 0 && !zombie_) {
        grpc::ClientContext ctx;
        Deadline(ctx, std::chrono::milliseconds(o_.lease_ttl_s * 1000 / 3));
        auto stream = eps_[ep].lease->LeaseKeepAlive(&ctx);
        etcdserverpb::LeaseKeepAliveRequest req;
        req.set_id(id);
        etcdserverpb::LeaseKeepAliveResponse resp;
        if (stream->Write(req) && stream->WritesDone() && stream->Read(&resp)) {
          if (resp.ttl() <= 0) {
            std::int64_t expected = id;
            lease_.compare_exchange_strong(expected, 0);
          }
          ctx.TryCancel();
        } else {
          ep = (ep + 1) % eps_.size();
        }
        (void)stream->Finish();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(o_.lease_ttl_s * 1000 / 3));
    }
  }

  // Takes the lock; sets token_ (and, for etcd, lock_key_). Retried: an
  // acquire repeated after a lost answer is re-entrant (native: the same
  // token, a hold count Release undoes to 0) or the same acquisition (etcd:
  // the same lease's key).
  bool Acquire() {
    const std::int64_t lease = lease_.load();
    if (lease == 0) return false;
    grpc::ClientContext ctx;
    Deadline(ctx, std::chrono::seconds(3));
    if (o_.native) {
      trinity::v1::AcquireLockRequest req;
      req.set_name(lock_name_);
      req.set_owner(owner_);
      req.set_lease(lease);
      req.set_wait_timeout_ms(2000);
      trinity::v1::AcquireLockResponse resp;
      grpc::Status st = Ep().native_lock->Acquire(&ctx, req, &resp);
      if (!st.ok()) {
        if (st.error_code() == grpc::StatusCode::NOT_FOUND) {  // the lease is gone
          std::int64_t expected = lease;
          lease_.compare_exchange_strong(expected, 0);
        }
        Failed();
        return false;
      }
      if (!resp.acquired()) return false;
      token_ = resp.token();
      fence_key_ = resp.fence_key();
      return true;
    }
    v3lockpb::LockRequest req;
    req.set_name(lock_name_);
    req.set_lease(lease);
    v3lockpb::LockResponse resp;
    grpc::Status st = Ep().etcd_lock->Lock(&ctx, req, &resp);
    if (!st.ok()) {
      if (st.error_message().find("lease not found") != std::string::npos) {
        std::int64_t expected = lease;
        lease_.compare_exchange_strong(expected, 0);
      }
      Failed();
      return false;
    }
    lock_key_ = resp.key();
    // The token: the lock key's creation revision.
    grpc::ClientContext rctx;
    Deadline(rctx, std::chrono::seconds(2));
    etcdserverpb::RangeRequest range;
    range.set_key(lock_key_);
    etcdserverpb::RangeResponse got;
    if (!Ep().kv->Range(&rctx, range, &got).ok()) {
      Failed();
      Release();
      return false;
    }
    if (got.kvs_size() == 0) return false;  // lost already (lease expired)
    token_ = static_cast<std::uint64_t>(got.kvs(0).create_revision());
    return true;
  }

  // Reads the counter (absent: 0); retried until it answers or the run ends.
  bool ReadCounter(std::uint64_t* value) {
    while (!Over()) {
      grpc::ClientContext ctx;
      Deadline(ctx, std::chrono::seconds(2));
      etcdserverpb::RangeRequest req;
      req.set_key(counter_key_);
      etcdserverpb::RangeResponse resp;
      if (Ep().kv->Range(&ctx, req, &resp).ok()) {
        *value = resp.kvs_size() == 0 ? 0 : std::strtoull(resp.kvs(0).value().c_str(), nullptr, 10);
        return true;
      }
      Failed();
    }
    return false;
  }

  // One fenced increment; false when the hold is (or may be) lost.
  bool Increment() {
    std::uint64_t read = 0;
    if (!ReadCounter(&read)) return false;
    if (std::uniform_int_distribution<int>(0, 99)(rng_) < o_.zombie_percent) {
      zombie_ = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(o_.lease_ttl_s * 1000 + 1500));
      zombie_ = false;
    }
    const std::uint64_t seq = seq_++;
    const std::uint64_t wrote = read + 1;
    etcdserverpb::TxnRequest txn;
    auto* cmp = o_.fence ? txn.add_compare() : nullptr;
    if (cmp == nullptr) {
      // --no-fence: the write goes through whoever holds the lock now.
    } else if (o_.native) {
      cmp->set_key(fence_key_);
      cmp->set_target(etcdserverpb::Compare::VALUE);
      cmp->set_result(etcdserverpb::Compare::EQUAL);
      cmp->set_value(std::to_string(token_));
    } else {
      cmp->set_key(lock_key_);
      cmp->set_target(etcdserverpb::Compare::CREATE);
      cmp->set_result(etcdserverpb::Compare::EQUAL);
      cmp->set_create_revision(static_cast<std::int64_t>(token_));
    }
    auto* put = txn.add_success()->mutable_request_put();
    put->set_key(counter_key_);
    put->set_value(std::to_string(wrote));
    auto* mark = txn.add_success()->mutable_request_put();
    mark->set_key(o_.prefix + "/" + std::to_string(lock_index_) + "/applied/" +
                  std::to_string(index_) + "/" + std::to_string(seq));
    mark->set_value(std::to_string(wrote) + " " + std::to_string(token_));
    grpc::ClientContext ctx;
    Deadline(ctx, std::chrono::seconds(2));
    etcdserverpb::TxnResponse resp;
    grpc::Status st = Ep().kv->Txn(&ctx, txn, &resp);
    const char* outcome = !st.ok() ? "unknown" : resp.succeeded() ? "ok" : "refused";
    char line[512];
    std::snprintf(line, sizeof line,
                  "{\"client\":%d,\"seq\":%llu,\"lock\":%d,\"token\":%llu,\"read\":%llu,"
                  "\"wrote\":%llu,\"outcome\":\"%s\"}",
                  index_, static_cast<unsigned long long>(seq), lock_index_,
                  static_cast<unsigned long long>(token_), static_cast<unsigned long long>(read),
                  static_cast<unsigned long long>(wrote), outcome);
    log_->Line(line);
    if (!st.ok()) Failed();
    return st.ok() && resp.succeeded();
  }

  // Best effort: a release that fails leaves the hold to the lease's expiry
  // (or to this client's next, re-entrant, acquire).
  void Release() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      grpc::ClientContext ctx;
      Deadline(ctx, std::chrono::seconds(2));
      grpc::Status st;
      if (o_.native) {
        trinity::v1::ReleaseLockRequest req;
        req.set_name(lock_name_);
        req.set_owner(owner_);
        trinity::v1::ReleaseLockResponse resp;
        st = Ep().native_lock->Release(&ctx, req, &resp);
        if (st.ok() && resp.hold_count() > 0) continue;  // a re-entrant hold left
        if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return;  // not held
      } else {
        v3lockpb::UnlockRequest req;
        req.set_key(lock_key_);
        v3lockpb::UnlockResponse resp;
        st = Ep().etcd_lock->Unlock(&ctx, req, &resp);
      }
      if (st.ok()) return;
      Failed();
    }
  }

  const Options& o_;
  std::vector<Endpoint>& eps_;
  Log* log_;
  const int index_;
  const Clock::time_point end_;
  const int lock_index_;
  const std::string lock_name_;
  const std::string owner_;
  const std::string counter_key_;
  std::size_t current_;
  std::atomic<std::int64_t> lease_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> zombie_{false};  // pausing: no keep-alives
  std::mt19937 rng_;
  std::uint64_t token_ = 0;
  std::string fence_key_;
  std::string lock_key_;
  std::uint64_t seq_ = 0;
};

// One acquire attempt on each endpoint: 0 when one answers anything but
// UNIMPLEMENTED, 3 when every answer is UNIMPLEMENTED, 1 otherwise.
int Probe(const Options& o, std::vector<Endpoint>& eps) {
  bool unimplemented = false;
  for (Endpoint& ep : eps) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status st;
    if (o.native) {
      trinity::v1::ListLocksRequest req;
      trinity::v1::ListLocksResponse resp;
      st = ep.native_lock->List(&ctx, req, &resp);
    } else {
      v3lockpb::UnlockRequest req;  // unlocking a key nobody holds: harmless
      req.set_key(o.prefix + "/probe");
      v3lockpb::UnlockResponse resp;
      st = ep.etcd_lock->Unlock(&ctx, req, &resp);
    }
    if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      unimplemented = true;
      continue;
    }
    if (st.error_code() != grpc::StatusCode::UNAVAILABLE &&
        st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED)
      return 0;
  }
  return unimplemented ? 3 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseOptions(argc, argv);
  std::vector<Endpoint> eps;
  for (std::size_t i = 0; i < o.endpoints.size(); ++i) {
    Endpoint ep;
    ep.channel = tri::client::DialChannel(o.endpoints[i], static_cast<int>(i), 64 << 20, {});
    ep.kv = etcdserverpb::KV::NewStub(ep.channel);
    ep.lease = etcdserverpb::Lease::NewStub(ep.channel);
    ep.etcd_lock = v3lockpb::Lock::NewStub(ep.channel);
    ep.native_lock = trinity::v1::Locks::NewStub(ep.channel);
    eps.push_back(std::move(ep));
  }
  if (o.probe) return Probe(o, eps);
  Log log(o.log_path);
  const Clock::time_point end = Clock::now() + std::chrono::seconds(o.seconds);
  std::vector<std::unique_ptr<ChaosClient>> clients;
  for (int c = 0; c < o.clients; ++c)
    clients.push_back(std::make_unique<ChaosClient>(o, eps, &log, c, end));
  {
    std::vector<std::jthread> threads;
    for (auto& c : clients)
      threads.emplace_back([&c] { c->Run(); });
  }
  return 0;
}
