#pragma once

// The closed-loop KV benchmark behind `tri bench put|range|txn`, in the shape of
// etcd's benchmark tool: `clients` threads, each issuing one request at a time
// (the next as soon as the last returned) over `conns` gRPC connections, until
// `total` requests have been issued. Every request's latency is kept in an
// array of `total` slots allocated up front, so memory is bounded by the
// options and exact percentiles come out.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/client_tls.h"

namespace tri::client {

enum class BenchOp { kPut, kRange, kTxn };

// Bounds on the options (each refused beyond its bound).
inline constexpr std::uint64_t kMaxBenchTotal = 20'000'000;
inline constexpr int kMaxBenchClients = 4096;
inline constexpr int kMaxBenchConns = 1024;
inline constexpr int kMaxBenchKeyBytes = 64 * 1024;
inline constexpr int kMaxBenchValueBytes = 1 << 20;
inline constexpr int kMaxBenchTxnOps = 128;

struct BenchOptions {
  BenchOp op = BenchOp::kPut;
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  ClientTls tls;  // as in ClientOptions
  int clients = 1;
  int conns = 1;
  std::uint64_t total = 10000;
  int key_size = 8;
  int val_size = 8;
  // Keys are drawn uniformly from this many distinct keys.
  std::uint64_t key_space_size = 1;
  // Send every request to the leader only (found with Maintenance.Status).
  bool target_leader = false;
  // range: serializable (local) reads instead of linearizable ones.
  bool serializable = false;
  // range: the key (and optional range end) every request reads; empty means a
  // random key of the key space per request.
  std::string range_key;
  std::string range_end;
  // txn: puts per transaction.
  int txn_ops = 1;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
  std::uint64_t seed = 1;
};

struct BenchReport {
  std::string op;
  std::uint64_t requests = 0;  // issued
  std::uint64_t errors = 0;
  std::string first_error;  // empty when errors == 0
  double elapsed_s = 0;
  double requests_per_s = 0;  // successful requests per second
  double latency_p50_ms = 0;
  double latency_p90_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double latency_mean_ms = 0;
};

// Checks `options` against the bounds; the error names the option.
Status ValidateBenchOptions(const BenchOptions& options);

// Runs the benchmark. Fails only when it cannot start (bad options, no
// endpoint reachable within dial_timeout, no leader found); request errors are
// counted in the report.
Result<BenchReport> RunKvBench(const BenchOptions& options);

// One JSON object with every field of the report (names with units).
std::string BenchReportJson(const BenchReport& report, const BenchOptions& options);

// The human summary `tri bench` prints.
std::string BenchReportText(const BenchReport& report);

}  // namespace tri::client
