#include <gtest/gtest.h>

#include "client/bench_stats.h"
#include "client/lease_bench.h"
#include "client/lock_bench.h"
#include "client/watch_bench.h"

namespace tri::client {
namespace {

TEST(ValidateLockBenchOptions, AcceptsTheDefaults) {
  EXPECT_TRUE(ValidateLockBenchOptions({}).ok());
}

TEST(ValidateLockBenchOptions, RefusesEachOptionBeyondItsBoundNamingIt) {
  const struct {
    void (*mutate)(LockBenchOptions&);
    const char* flag;
  } cases[] = {
      {[](LockBenchOptions& o) { o.endpoints.clear(); }, "--endpoints"},
      {[](LockBenchOptions& o) { o.clients = 0; }, "--clients"},
      {[](LockBenchOptions& o) { o.clients = kMaxLockBenchClients + 1; }, "--clients"},
      {[](LockBenchOptions& o) { o.locks = 0; }, "--locks"},
      {[](LockBenchOptions& o) { o.locks = 2; }, "--locks"},  // more locks than clients
      {[](LockBenchOptions& o) { o.conns = 0; }, "--conns"},
      {[](LockBenchOptions& o) { o.conns = kMaxLockBenchConns + 1; }, "--conns"},
      {[](LockBenchOptions& o) { o.cycles = 0; }, "--cycles"},
      {[](LockBenchOptions& o) { o.cycles = kMaxLockBenchCycles + 1; }, "--cycles"},
      {[](LockBenchOptions& o) { o.lease_ttl_s = 2; }, "--lease-ttl"},
      {[](LockBenchOptions& o) { o.lease_ttl_s = kMaxLockBenchLeaseTtlSeconds + 1; },
       "--lease-ttl"},
      {[](LockBenchOptions& o) { o.prefix.clear(); }, "--prefix"},
      {[](LockBenchOptions& o) { o.prefix.assign(kMaxLockBenchPrefixBytes + 1, 'p'); }, "--prefix"},
      {[](LockBenchOptions& o) { o.request_timeout = std::chrono::milliseconds(0); },
       "--request-timeout"},
  };
  for (const auto& c : cases) {
    LockBenchOptions o;
    c.mutate(o);
    const Status st = ValidateLockBenchOptions(o);
    ASSERT_FALSE(st.ok()) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
  }
}

TEST(ValidateLockBenchOptions, AcceptsAsManyLocksAsClients) {
  LockBenchOptions o;
  o.clients = 16;
  o.locks = 16;
  EXPECT_TRUE(ValidateLockBenchOptions(o).ok());
}

TEST(ValidateWatchBenchOptions, AcceptsTheDefaults) {
  EXPECT_TRUE(ValidateWatchBenchOptions({}).ok());
}

TEST(ValidateWatchBenchOptions, RefusesEachOptionBeyondItsBoundNamingIt) {
  const struct {
    void (*mutate)(WatchBenchOptions&);
    const char* flag;
  } cases[] = {
      {[](WatchBenchOptions& o) { o.endpoints.clear(); }, "--endpoints"},
      {[](WatchBenchOptions& o) { o.watchers = 0; }, "--watchers"},
      {[](WatchBenchOptions& o) { o.watchers = kMaxWatchBenchWatchers + 1; }, "--watchers"},
      {[](WatchBenchOptions& o) { o.streams = 0; }, "--streams"},
      {[](WatchBenchOptions& o) {
         o.watchers = 5;
         o.streams = 6;
       },
       "--streams"},
      {[](WatchBenchOptions& o) { o.conns = o.streams + 1; }, "--conns"},
      {[](WatchBenchOptions& o) { o.events = 0; }, "--events"},
      {[](WatchBenchOptions& o) { o.events = kMaxWatchBenchEvents + 1; }, "--events"},
      {[](WatchBenchOptions& o) {
         o.watchers = kMaxWatchBenchWatchers;
         o.events = kMaxWatchBenchSamples / kMaxWatchBenchWatchers + 1;
       },
       "--watchers times --events"},
      {[](WatchBenchOptions& o) { o.key.clear(); }, "--watch-key"},
  };
  for (const auto& c : cases) {
    WatchBenchOptions o;
    c.mutate(o);
    const Status st = ValidateWatchBenchOptions(o);
    ASSERT_FALSE(st.ok()) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
  }
}

TEST(ValidateLeaseBenchOptions, AcceptsTheDefaults) {
  EXPECT_TRUE(ValidateLeaseBenchOptions({}).ok());
}

TEST(ValidateLeaseBenchOptions, RefusesEachOptionBeyondItsBoundNamingIt) {
  const struct {
    void (*mutate)(LeaseBenchOptions&);
    const char* flag;
  } cases[] = {
      {[](LeaseBenchOptions& o) { o.endpoints.clear(); }, "--endpoints"},
      {[](LeaseBenchOptions& o) { o.clients = 0; }, "--clients"},
      {[](LeaseBenchOptions& o) { o.clients = kMaxLeaseBenchClients + 1; }, "--clients"},
      {[](LeaseBenchOptions& o) { o.conns = o.clients + 1; }, "--conns"},
      {[](LeaseBenchOptions& o) { o.duration = std::chrono::milliseconds(0); }, "--duration"},
      {[](LeaseBenchOptions& o) { o.duration = kMaxLeaseBenchDuration + std::chrono::seconds(1); },
       "--duration"},
      {[](LeaseBenchOptions& o) { o.lease_ttl_s = 0; }, "--lease-ttl"},
  };
  for (const auto& c : cases) {
    LeaseBenchOptions o;
    c.mutate(o);
    const Status st = ValidateLeaseBenchOptions(o);
    ASSERT_FALSE(st.ok()) << c.flag;
    EXPECT_NE(st.message().find(c.flag), std::string::npos) << st.message();
  }
}

TEST(Summarize, TakesNearestRankPercentilesOfTheSortedSample) {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i)
    samples.push_back(i);
  const LatencySummary s = Summarize(samples);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p90_ms, 90);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_DOUBLE_EQ(s.mean_ms, 50.5);
}

TEST(Summarize, GivesZerosForAnEmptySample) {
  std::vector<double> none;
  const LatencySummary s = Summarize(none);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99_ms, 0);
}

TEST(LockBenchReportJson, NamesTheApiAndEveryLatency) {
  LockBenchReport r;
  r.api = "native";
  const auto json = nlohmann::json::parse(LockBenchReportJson(r));
  EXPECT_EQ(json["api"], "native");
  EXPECT_TRUE(json["handover_latency"].contains("p99_ms"));
  EXPECT_TRUE(json["cycle_latency"].contains("p50_ms"));
}

}  // namespace
}  // namespace tri::client
