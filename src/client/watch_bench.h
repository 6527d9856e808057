#pragma once

// The watch benchmark behind `tri bench watch`: `watchers` watchers of one key,
// spread round robin over `streams` Watch streams (stream s on connection
// s % conns), and one writer that puts the key `events` times. Each put waits
// until every watcher has received its event (or `request_timeout` passed),
// so the latencies are those of an idle cluster fanning out one event, not of
// a queue. Latency: the put being sent -> the event arriving at a watcher,
// one sample per watcher and event (timed on one steady clock: the writer and
// the watchers are threads of this process).

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/bench_stats.h"
#include "client/client_tls.h"

namespace tri::client {

inline constexpr int kMaxWatchBenchWatchers = 100'000;
inline constexpr int kMaxWatchBenchStreams = 1024;
inline constexpr int kMaxWatchBenchConns = 1024;
inline constexpr std::uint64_t kMaxWatchBenchEvents = 1'000'000;
// watchers * events: the latency samples kept.
inline constexpr std::uint64_t kMaxWatchBenchSamples = 20'000'000;

struct WatchBenchOptions {
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  ClientTls tls;
  int watchers = 1000;
  int streams = 10;
  int conns = 10;
  std::uint64_t events = 100;
  std::string key = "tri-bench-watch";
  std::chrono::milliseconds dial_timeout{2000};
  // Bound on one put and on the wait for its deliveries.
  std::chrono::milliseconds request_timeout{10000};
};

struct WatchBenchReport {
  int watchers = 0;
  int streams = 0;
  std::uint64_t events = 0;      // puts made
  std::uint64_t deliveries = 0;  // events received by watchers
  std::uint64_t missing = 0;     // watchers * events - deliveries
  std::uint64_t errors = 0;      // failed puts, broken streams
  std::string first_error;
  double elapsed_s = 0;
  double deliveries_per_s = 0;
  LatencySummary delivery;  // put sent -> event at a watcher
};

Status ValidateWatchBenchOptions(const WatchBenchOptions& options);
// Fails when it cannot start: bad options, no endpoint, a watcher not created.
Result<WatchBenchReport> RunWatchBench(const WatchBenchOptions& options);
std::string WatchBenchReportJson(const WatchBenchReport& report);
std::string WatchBenchReportText(const WatchBenchReport& report);

}  // namespace tri::client
