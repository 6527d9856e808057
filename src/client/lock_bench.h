#pragma once

// The closed-loop lock benchmark behind `tri bench lock`: `clients` threads,
// each acquiring a lock and releasing it again at once (one cycle), the next
// cycle as soon as the last ended, until `cycles` cycles have been started in
// all. Client c uses lock c % locks, so `locks` 1 is full contention and
// `locks` = `clients` none.
//
// Two APIs:
//   etcd    v3lockpb.Lock/Lock then Unlock of the returned key, under one
//           session lease per client (what etcd's server offers, as etcdctl
//           lock and clientv3's concurrency package use it); runs against
//           etcd 3.4 and any server of that API.
//   native  trinity.v1.Locks Acquire (owner = one identity per client, under
//           the same session lease) then Release.
// Session leases are granted before the clock starts, kept alive every third
// of their TTL and revoked at the end.
//
// Measured: cycles per second (completed cycles / elapsed), the cycle latency
// (acquire sent -> release answered) and the hand-over latency: when a
// client's acquire was sent before the previous holder sent its release, the
// time from that release being sent to this grant arriving (the lock passing
// from one client to a waiting one). All clients run in this process on one
// steady clock, so both ends of a hand-over are timed by the same clock.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "client/bench_stats.h"
#include "client/client_tls.h"

namespace tri::client {

enum class LockApi { kEtcd, kNative };

inline constexpr std::uint64_t kMaxLockBenchCycles = 10'000'000;
inline constexpr int kMaxLockBenchClients = 4096;
inline constexpr int kMaxLockBenchConns = 1024;
inline constexpr std::int64_t kMaxLockBenchLeaseTtlSeconds = 3600;
inline constexpr std::size_t kMaxLockBenchPrefixBytes = 200;

struct LockBenchOptions {
  LockApi api = LockApi::kEtcd;
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  ClientTls tls;
  int clients = 1;
  // Distinct locks, 1..clients.
  int locks = 1;
  // gRPC connections the clients share (connection c dials endpoint c % n).
  int conns = 1;
  // Cycles in all clients together.
  std::uint64_t cycles = 1000;
  // TTL of each client's session lease.
  std::int64_t lease_ttl_s = 30;
  // Every connection to the leader (found with Maintenance.Status) instead of
  // spread over the endpoints.
  bool target_leader = false;
  // Lock names are "<prefix>/<i>".
  std::string prefix = "tri-bench-lock";
  std::chrono::milliseconds dial_timeout{2000};
  // Deadline of one acquire (waiting included) or release.
  std::chrono::milliseconds request_timeout{10000};
};

struct LockBenchReport {
  std::string api;
  int clients = 0;
  int locks = 0;
  bool target_leader = false;
  std::uint64_t cycles = 0;  // started
  std::uint64_t completed = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  double elapsed_s = 0;
  double cycles_per_s = 0;  // completed / elapsed
  LatencySummary cycle;     // acquire sent -> release answered
  LatencySummary acquire;   // acquire sent -> granted
  LatencySummary handover;  // release sent by the holder -> grant at a waiter
};

// Checks the options against their bounds; the error names the flag.
Status ValidateLockBenchOptions(const LockBenchOptions& options);

// Fails only when it cannot start (bad options, no endpoint, no session
// lease); failed acquires and releases are counted in the report.
Result<LockBenchReport> RunLockBench(const LockBenchOptions& options);

std::string LockBenchReportJson(const LockBenchReport& report);
std::string LockBenchReportText(const LockBenchReport& report);

}  // namespace tri::client
