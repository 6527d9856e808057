#pragma once

// The closed-loop saga benchmark behind `tri bench saga`: `clients` threads,
// each starting one saga of a generated definition (noop steps, shaped as a
// chain or diamonds) with StartSaga{wait: true}, which answers once the saga
// is terminal, before starting the next, until `total` sagas have been started. Latency is
// end to end, from the start request to the terminal event; throughput counts
// sagas that completed, not sagas started. Memory is bounded by `total`.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/client_tls.h"

namespace tri::client {

enum class SagaShape { kChain, kDiamond };

inline constexpr std::uint64_t kMaxSagaBenchTotal = 10'000'000;
inline constexpr int kMaxSagaBenchClients = 4096;
inline constexpr std::uint32_t kMaxSagaBenchSteps = 10'000;

struct SagaBenchOptions {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  ClientTls tls;  // as in ClientOptions
  SagaShape shape = SagaShape::kChain;
  std::uint32_t steps = 10;
  int clients = 1;
  std::uint64_t total = 1000;
  std::chrono::milliseconds dial_timeout{2000};
  std::chrono::milliseconds request_timeout{10000};
};

struct SagaBenchReport {
  std::string shape;
  std::uint32_t steps = 0;
  int clients = 0;
  std::uint64_t started = 0;
  std::uint64_t completed = 0;  // reached `completed`
  std::uint64_t other_terminal = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  double elapsed_s = 0;
  double completed_per_s = 0;
  double latency_p50_ms = 0;
  double latency_p90_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  double latency_mean_ms = 0;
};

// The definition the benchmark registers: `steps` noop steps; a chain (each
// needs the previous), or diamonds (a root, then groups of up to 3 parallel
// steps joined by one step, repeated).
std::string SagaBenchDocument(SagaShape shape, std::uint32_t steps);

Status ValidateSagaBenchOptions(const SagaBenchOptions& options);
// Fails only when it cannot start (bad options, no endpoint, definition refused).
Result<SagaBenchReport> RunSagaBench(const SagaBenchOptions& options);
std::string SagaBenchReportJson(const SagaBenchReport& report);
std::string SagaBenchReportText(const SagaBenchReport& report);

}  // namespace tri::client
