// `tri demo`'s scenarios run for real: the counts the issue promises, and
// proof that they are counted (other batch sizes give other counts).

#include <gtest/gtest.h>

#include "demo/report.h"
#include "demo/scenarios.h"

namespace tri::demo {
namespace {

ScenarioReport RunIt(const Scenario& scenario) {
  exec::Runtime runtime;
  auto report = RunScenario(scenario, runtime);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  return report.ok() ? *report : ScenarioReport{};
}

TEST(Demo, DiamondScenarioCompletesThirtySagas) {
  const ScenarioReport r = RunIt(DiamondScenario(30));
  EXPECT_EQ(r.sagas, 30u);
  EXPECT_EQ(r.completed, 30u);
  EXPECT_EQ(r.steps_succeeded, 150u);
  EXPECT_EQ(r.max_parallelism, 3u);
  EXPECT_EQ(r.compensations, 0u);
  EXPECT_GT(r.avg_parallelism, 1.0);
  EXPECT_LE(r.saga_p50_ms, r.saga_p99_ms);
}

TEST(Demo, FailureScenarioCompensatesTheFailingHalf) {
  const ScenarioReport r = RunIt(FailureScenario(10, 10));
  EXPECT_EQ(r.completed, 10u);
  EXPECT_EQ(r.compensated, 10u);
  EXPECT_EQ(r.steps_succeeded, 80u);
  EXPECT_EQ(r.compensations, 30u);
}

TEST(Demo, ParallelScenarioTimesOutFourAndCancelsFour) {
  const ScenarioReport r = RunIt(ParallelScenario());
  EXPECT_EQ(r.sagas, 2u);
  EXPECT_EQ(r.timed_out, 4u);
  EXPECT_EQ(r.cancelled, 4u);
  EXPECT_EQ(r.max_parallelism, 8u);
  ASSERT_EQ(r.details.size(), 2u);
  for (const auto& [summary, count] : r.details) {
    if (summary.name == "parallel-deadline") {
      EXPECT_EQ(summary.timed_out, 4u);
      EXPECT_EQ(summary.compensations, 4u);
      EXPECT_EQ(summary.max_parallelism, 8u);
    } else {
      EXPECT_EQ(summary.name, "parallel-abort");
      EXPECT_EQ(summary.cancelled, 4u);
      EXPECT_EQ(summary.compensations, 2u);
    }
  }
}

TEST(Demo, PipelineScenarioRunsDiamondsBesideChains) {
  const ScenarioReport r = RunIt(PipelineScenario(10, 5, 5));
  EXPECT_EQ(r.sagas, 20u);
  EXPECT_EQ(r.completed, 15u);
  EXPECT_EQ(r.compensated, 5u);
  EXPECT_EQ(r.steps_succeeded, 10u * 5 + 5u * 3 + 5u * 5);
}

TEST(Demo, CountsFollowWhatRanNotTheDefaults) {
  const ScenarioReport r = RunIt(FailureScenario(3, 2));
  EXPECT_EQ(r.completed, 3u);
  EXPECT_EQ(r.compensated, 2u);
  EXPECT_EQ(r.steps_succeeded, 3u * 5 + 2u * 3);
  EXPECT_EQ(r.compensations, 2u * 3);
  const ScenarioReport chains = RunIt(PipelineScenario(0, 0, 2, 7));
  EXPECT_EQ(chains.completed, 2u);
  EXPECT_EQ(chains.steps_succeeded, 14u);
  EXPECT_EQ(chains.max_parallelism, 1u);
}

TEST(Demo, JsonCarriesEveryDocumentedField) {
  const auto json = ReportsToJson({RunIt(DiamondScenario(2))});
  ASSERT_EQ(json["scenarios"].size(), 1u);
  for (const char* field : {"name", "sagas", "completed", "compensated", "steps_succeeded",
                            "compensations", "timed_out", "cancelled", "max_parallelism",
                            "avg_parallelism", "wall_ms", "saga_p50_ms", "saga_p99_ms"}) {
    EXPECT_TRUE(json["scenarios"][0].contains(field)) << field;
  }
}

}  // namespace
}  // namespace tri::demo
