#include "client/kv_bench.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>

#include "base/coding.h"
#include "base/rng.h"
#include "client/etcd_client.h"
#include "client/etcdctl_format.h"
#include "client/failover.h"
#include "client/find_leader.h"
#include "client/grpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace tri::client {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kFailedSlot = std::numeric_limits<std::uint64_t>::max();

const char* OpName(BenchOp op) {
  switch (op) {
    case BenchOp::kPut:
      return "put";
    case BenchOp::kRange:
      return "range";
    case BenchOp::kTxn:
      return "txn";
  }
  return "?";
}

// Key number `n` as key_size bytes: its little-endian fixed64 encoding,
// truncated or zero-padded (etcd's benchmark also writes the number into a
// zeroed key_size buffer).
std::string MakeKey(std::uint64_t n, int key_size) {
  std::string key;
  coding::PutFixed64(key, n);
  key.resize(static_cast<std::size_t>(key_size), '\0');
  return key;
}

double Ms(std::uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

}  // namespace

Status ValidateBenchOptions(const BenchOptions& o) {
  if (o.endpoints.empty()) return InvalidArgument("bench: --endpoints is empty");
  if (o.clients < 1 || o.clients > kMaxBenchClients)
    return InvalidArgument("bench: --clients must be in 1.." + std::to_string(kMaxBenchClients));
  if (o.conns < 1 || o.conns > kMaxBenchConns)
    return InvalidArgument("bench: --conns must be in 1.." + std::to_string(kMaxBenchConns));
  if (o.total < 1 || o.total > kMaxBenchTotal)
    return InvalidArgument("bench: --total must be in 1.." + std::to_string(kMaxBenchTotal));
  if (o.key_size < 1 || o.key_size > kMaxBenchKeyBytes)
    return InvalidArgument("bench: --key-size must be in 1.." + std::to_string(kMaxBenchKeyBytes));
  if (o.val_size < 0 || o.val_size > kMaxBenchValueBytes)
    return InvalidArgument("bench: --val-size must be in 0.." +
                           std::to_string(kMaxBenchValueBytes));
  if (o.key_space_size < 1) return InvalidArgument("bench: --key-space-size must be at least 1");
  if (o.txn_ops < 1 || o.txn_ops > kMaxBenchTxnOps)
    return InvalidArgument("bench: --txn-ops must be in 1.." + std::to_string(kMaxBenchTxnOps));
  if (o.op == BenchOp::kTxn && static_cast<std::uint64_t>(o.txn_ops) > o.key_space_size)
    return InvalidArgument(
        "bench: --txn-ops must not exceed --key-space-size (a txn may not put "
        "one key twice)");
  if (o.key_size < 8 && o.key_space_size > (std::uint64_t{1} << (8 * o.key_size)))
    return InvalidArgument("bench: --key-space-size exceeds the keys --key-size bytes can hold");
  return Status::Ok();
}

Result<BenchReport> RunKvBench(const BenchOptions& options) {
  TRI_RETURN_IF_ERROR(ValidateBenchOptions(options));

  std::vector<std::string> targets = options.endpoints;
  if (options.target_leader) {
    TRI_ASSIGN_OR_RETURN(std::string leader,
                         FindLeaderEndpoint(options.endpoints, options.tls, options.dial_timeout,
                                            options.request_timeout));
    targets = {leader};
  }

  // One stub per connection; connection c goes to targets[c % targets.size()].
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> stubs;
  const Clock::time_point dial_deadline = Clock::now() + options.dial_timeout;
  for (int c = 0; c < options.conns; ++c) {
    auto channel = DialChannel(targets[static_cast<std::size_t>(c) % targets.size()], c,
                               ClientOptions{}.max_receive_message_bytes, options.tls);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                   (dial_deadline - Clock::now()))) {
      return DeadlineExceeded("bench: connection " + std::to_string(c) + " to " +
                              targets[static_cast<std::size_t>(c) % targets.size()] +
                              " not established within the dial timeout");
    }
    stubs.push_back(etcdserverpb::KV::NewStub(channel));
  }

  SeededRng value_rng(options.seed);
  std::string value(static_cast<std::size_t>(options.val_size), '\0');
  for (char& ch : value)
    ch = static_cast<char>('a' + value_rng.Uniform(26));

  std::vector<std::uint64_t> latency_ns(options.total, kFailedSlot);
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex error_mu;
  std::string first_error;

  auto client_loop = [&](int client_index) {
    etcdserverpb::KV::Stub& stub = *stubs[static_cast<std::size_t>(client_index % options.conns)];
    SeededRng rng(options.seed * 1000003 + static_cast<std::uint64_t>(client_index) + 1);
    while (true) {
      const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= options.total) return;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + options.request_timeout);
      grpc::Status st;
      Clock::time_point start;
      switch (options.op) {
        case BenchOp::kPut: {
          etcdserverpb::PutRequest req;
          req.set_key(MakeKey(rng.Uniform(options.key_space_size), options.key_size));
          req.set_value(value);
          etcdserverpb::PutResponse resp;
          start = Clock::now();
          st = stub.Put(&context, req, &resp);
          break;
        }
        case BenchOp::kRange: {
          etcdserverpb::RangeRequest req;
          if (options.range_key.empty()) {
            req.set_key(MakeKey(rng.Uniform(options.key_space_size), options.key_size));
          } else {
            req.set_key(options.range_key);
            req.set_range_end(options.range_end);
          }
          req.set_serializable(options.serializable);
          etcdserverpb::RangeResponse resp;
          start = Clock::now();
          st = stub.Range(&context, req, &resp);
          break;
        }
        case BenchOp::kTxn: {
          etcdserverpb::TxnRequest req;
          // Consecutive key numbers: a txn may not put one key twice.
          const std::uint64_t base = rng.Uniform(options.key_space_size);
          for (int op = 0; op < options.txn_ops; ++op) {
            etcdserverpb::PutRequest* put = req.add_success()->mutable_request_put();
            put->set_key(MakeKey((base + static_cast<std::uint64_t>(op)) % options.key_space_size,
                                 options.key_size));
            put->set_value(value);
          }
          etcdserverpb::TxnResponse resp;
          start = Clock::now();
          st = stub.Txn(&context, req, &resp);
          break;
        }
      }
      const auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start);
      if (st.ok()) {
        latency_ns[i] = static_cast<std::uint64_t>(took.count());
      } else {
        errors.fetch_add(1, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lock(error_mu);
        if (first_error.empty()) first_error = FromGrpcStatus(st).ToString();
      }
    }
  };

  const Clock::time_point begin = Clock::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(static_cast<std::size_t>(options.clients));
    for (int c = 0; c < options.clients; ++c)
      threads.emplace_back(client_loop, c);
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();

  // Successful latencies to the front, sorted, for exact percentiles.
  const auto ok_end = std::partition(latency_ns.begin(), latency_ns.end(),
                                     [](std::uint64_t ns) { return ns != kFailedSlot; });
  std::sort(latency_ns.begin(), ok_end);
  const std::size_t ok = static_cast<std::size_t>(ok_end - latency_ns.begin());

  BenchReport report;
  report.op = OpName(options.op);
  report.requests = options.total;
  report.errors = errors.load();
  report.first_error = first_error;
  report.elapsed_s = elapsed_s;
  report.requests_per_s = elapsed_s > 0 ? static_cast<double>(ok) / elapsed_s : 0;
  if (ok > 0) {
    auto percentile = [&](double p) {
      const std::size_t rank = static_cast<std::size_t>(p * static_cast<double>(ok - 1) + 0.5);
      return Ms(latency_ns[std::min(rank, ok - 1)]);
    };
    report.latency_p50_ms = percentile(0.50);
    report.latency_p90_ms = percentile(0.90);
    report.latency_p99_ms = percentile(0.99);
    report.latency_max_ms = Ms(latency_ns[ok - 1]);
    long double sum = 0;
    for (std::size_t i = 0; i < ok; ++i)
      sum += latency_ns[i];
    report.latency_mean_ms = static_cast<double>(sum / ok) / 1e6;
  }
  return report;
}

std::string BenchReportJson(const BenchReport& r, const BenchOptions& o) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"op\":\"%s\",\"clients\":%d,\"conns\":%d,\"total\":%llu,\"key_size\":%d,"
                "\"val_size\":%d,\"key_space_size\":%llu,\"serializable\":%s,"
                "\"target_leader\":%s,\"requests\":%llu,\"errors\":%llu,\"elapsed_s\":%.6f,"
                "\"requests_per_s\":%.2f,\"latency_mean_ms\":%.4f,\"latency_p50_ms\":%.4f,"
                "\"latency_p90_ms\":%.4f,\"latency_p99_ms\":%.4f,\"latency_max_ms\":%.4f,"
                "\"first_error\":",
                r.op.c_str(), o.clients, o.conns, static_cast<unsigned long long>(o.total),
                o.key_size, o.val_size, static_cast<unsigned long long>(o.key_space_size),
                o.serializable ? "true" : "false", o.target_leader ? "true" : "false",
                static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.errors), r.elapsed_s, r.requests_per_s,
                r.latency_mean_ms, r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms,
                r.latency_max_ms);
  return std::string(buf) + GoJsonString(r.first_error) + "}";
}

std::string BenchReportText(const BenchReport& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "Summary (%s):\n"
                "  Total:\t%.4f secs.\n"
                "  Requests:\t%llu (errors %llu)\n"
                "  Requests/sec:\t%.2f\n"
                "  Latency mean:\t%.4f ms\n"
                "  Latency p50:\t%.4f ms\n"
                "  Latency p90:\t%.4f ms\n"
                "  Latency p99:\t%.4f ms\n"
                "  Latency max:\t%.4f ms\n",
                r.op.c_str(), r.elapsed_s, static_cast<unsigned long long>(r.requests),
                static_cast<unsigned long long>(r.errors), r.requests_per_s, r.latency_mean_ms,
                r.latency_p50_ms, r.latency_p90_ms, r.latency_p99_ms, r.latency_max_ms);
  std::string out = buf;
  if (r.errors > 0) out += "  First error:\t" + r.first_error + "\n";
  return out;
}

}  // namespace tri::client
