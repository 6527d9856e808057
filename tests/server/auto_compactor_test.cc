// AutoCompactor (etcd's periodic and revision compactors, driven by a given
// clock) and the parsing of etcd's --auto-compaction-* flags.

#include "server/auto_compactor.h"

#include <gtest/gtest.h>

#include "server/config.h"

namespace tri::server {
namespace {

using Mode = AutoCompactionOptions::Mode;

TEST(AutoCompaction, FlagsParseAsEtcdDoes) {
  auto hours = ParseAutoCompaction("periodic", "2");
  ASSERT_TRUE(hours.ok());
  EXPECT_EQ(hours->mode, Mode::kPeriodic);
  EXPECT_EQ(hours->period_ms, 2u * 3600 * 1000);
  auto duration = ParseAutoCompaction("periodic", "30m");
  ASSERT_TRUE(duration.ok());
  EXPECT_EQ(duration->period_ms, 30u * 60 * 1000);
  auto revisions = ParseAutoCompaction("revision", "1000");
  ASSERT_TRUE(revisions.ok());
  EXPECT_EQ(revisions->mode, Mode::kRevision);
  EXPECT_EQ(revisions->retention_revisions, 1000);
  EXPECT_EQ(ParseAutoCompaction("periodic", "0")->mode, Mode::kOff);
  EXPECT_EQ(ParseAutoCompaction("revision", "0")->mode, Mode::kOff);
  EXPECT_NE(ParseAutoCompaction("hourly", "1").status().message().find("--auto-compaction-mode"),
            std::string::npos);
  EXPECT_NE(ParseAutoCompaction("revision", "1h").status().message().find("revisions"),
            std::string::npos);
  EXPECT_FALSE(ParseAutoCompaction("periodic", "soon").ok());
  EXPECT_FALSE(ParseAutoCompaction("periodic", "-1").ok());
}

TEST(AutoCompaction, TheServerConfigCarriesTheFlags) {
  ServerConfig config;
  config.auto_compaction_retention = "1h";
  auto resolved = ResolveConfig(config);
  ASSERT_TRUE(resolved.ok()) << resolved.status().message();
  EXPECT_EQ(resolved->auto_compaction.period_ms, 3600u * 1000);
  EXPECT_EQ(resolved->watch_progress_notify_interval_ms, 600u * 1000);
  config.max_watchers = 0;
  EXPECT_NE(ResolveConfig(config).status().message().find("--max-watchers"), std::string::npos);
}

TEST(AutoCompaction, PeriodicCompactsToTheRevisionOnePeriodAgo) {
  // Period 10 s: a sample every second, the first compaction 10 s after taking
  // the lead, to the revision sampled 10 s earlier.
  AutoCompactor compactor({.mode = Mode::kPeriodic, .period_ms = 10000});
  std::int64_t revision = 100;
  EXPECT_FALSE(compactor.Due(0, true, revision, 0));
  std::optional<std::int64_t> due;
  std::uint64_t now = 0;
  while (!due) {
    now += 1000;
    revision += 10;  // 10 writes a second
    due = compactor.Due(now, true, revision, 0);
    ASSERT_LE(now, 10000u);
  }
  EXPECT_EQ(now, 10000u);
  EXPECT_EQ(*due, 100);                                             // sampled at 0
  EXPECT_FALSE(compactor.Due(now + 1000, true, revision + 10, 0));  // in flight
  compactor.Done(now, true);
  // Then every period (under an hour), to the revision one period back.
  due.reset();
  while (!due) {
    now += 1000;
    revision += 10;
    due = compactor.Due(now, true, revision, 100);
  }
  EXPECT_EQ(now, 20000u);
  EXPECT_EQ(*due, revision - 100);
}

TEST(AutoCompaction, RevisionModeKeepsTheLastNRevisions) {
  AutoCompactor compactor(
      {.mode = Mode::kRevision, .retention_revisions = 50, .revision_interval_ms = 1000});
  EXPECT_FALSE(compactor.Due(0, true, 30, 0));
  EXPECT_FALSE(compactor.Due(1000, true, 40, 0));  // 40 - 50 <= 0
  auto due = compactor.Due(2000, true, 120, 0);
  ASSERT_TRUE(due);
  EXPECT_EQ(*due, 70);
  compactor.Done(2000, true);
  EXPECT_FALSE(compactor.Due(3000, true, 120, 70));  // same revision: nothing new
  EXPECT_EQ(compactor.Due(4000, true, 130, 70), 80);
}

TEST(AutoCompaction, OnlyTheLeaderCompactsAndANewTermStartsAfresh) {
  AutoCompactor compactor(
      {.mode = Mode::kRevision, .retention_revisions = 10, .revision_interval_ms = 1000});
  EXPECT_FALSE(compactor.Due(0, false, 100, 0));
  EXPECT_FALSE(compactor.Due(5000, false, 100, 0));
  EXPECT_FALSE(compactor.Due(5000, true, 100, 0));  // leads from now
  EXPECT_EQ(compactor.Due(6000, true, 100, 0), 90);
  EXPECT_FALSE(compactor.Due(6500, false, 100, 0));  // lost the lead while in flight
  compactor.Done(6500, false);
  EXPECT_FALSE(compactor.Due(7000, true, 100, 0));
  EXPECT_EQ(compactor.Due(8000, true, 100, 0), 90);
  compactor.Done(8000, false);  // failed: retried at the next interval
  EXPECT_EQ(compactor.Due(9000, true, 101, 0), 91);
}

TEST(AutoCompaction, OffNeverCompacts) {
  AutoCompactor compactor({});
  for (std::uint64_t now = 0; now < 100000; now += 1000)
    EXPECT_FALSE(compactor.Due(now, true, static_cast<std::int64_t>(now), 0));
}

}  // namespace
}  // namespace tri::server
