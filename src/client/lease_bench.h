#pragma once

// The lease keep-alive benchmark behind `tri bench lease`: `clients` threads,
// each with its own lease (TTL `lease_ttl_s`, granted before the clock starts)
// and its own LeaseKeepAlive stream (stream c on connection c % conns), each
// sending a keep-alive and waiting for its answer, the next at once, for
// `duration`. Reports keep-alives answered per second and their latency.
// Leases are revoked at the end.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/bench_stats.h"
#include "client/client_tls.h"

namespace tri::client {

inline constexpr int kMaxLeaseBenchClients = 4096;
inline constexpr int kMaxLeaseBenchConns = 1024;
inline constexpr std::chrono::seconds kMaxLeaseBenchDuration{3600};
// Latency samples kept in all (later keep-alives are counted, not sampled).
inline constexpr std::size_t kMaxLeaseBenchSamples = 20'000'000;

struct LeaseBenchOptions {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  ClientTls tls;
  int clients = 16;
  int conns = 16;
  std::chrono::milliseconds duration{10000};
  std::int64_t lease_ttl_s = 60;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
};

struct LeaseBenchReport {
  int clients = 0;
  std::uint64_t keepalives = 0;  // answered with a TTL > 0
  std::uint64_t errors = 0;      // broken streams, answers with TTL <= 0
  std::string first_error;
  double elapsed_s = 0;
  double keepalives_per_s = 0;
  LatencySummary latency;  // keep-alive sent -> answered
};

Status ValidateLeaseBenchOptions(const LeaseBenchOptions& options);
// Fails when it cannot start: bad options, no endpoint, a lease not granted.
Result<LeaseBenchReport> RunLeaseBench(const LeaseBenchOptions& options);
std::string LeaseBenchReportJson(const LeaseBenchReport& report);
std::string LeaseBenchReportText(const LeaseBenchReport& report);

}  // namespace tri::client
