// The `tri` binary end to end: exit codes, located validation errors, the
// trace file and the demo's JSON, as a user sees them.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/run_tri.h"

namespace {

using tri::cli::testing::Ran;
using tri::cli::testing::RunTri;

TEST(TriCli, RunOfAnInvalidFileExits2WithLocatedErrors) {
  const Ran ran = RunTri("run examples/invalid.yaml");
  EXPECT_EQ(ran.exit_code, 2) << ran.out;
  EXPECT_NE(
      ran.out.find("examples/invalid.yaml:7:13: step 'a': field 'needs': cycle: a -> c -> b -> a"),
      std::string::npos)
      << ran.out;
  EXPECT_NE(ran.out.find("unknown step 'paymnt'"), std::string::npos) << ran.out;
}

TEST(TriCli, RunOfAMissingFileOrUnknownInputExits2) {
  EXPECT_EQ(RunTri("run no-such-file.yaml").exit_code, 2);
  const Ran ran = RunTri("run examples/compensation.yaml --input nope=1");
  EXPECT_EQ(ran.exit_code, 2);
  EXPECT_NE(ran.out.find("unknown input 'nope'"), std::string::npos) << ran.out;
  EXPECT_EQ(RunTri("run examples/compensation.yaml --input novalue").exit_code, 2);
}

TEST(TriCli, RunOfACompletingSagaExits0) {
  const Ran ran = RunTri("run examples/diamond.yaml");
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find("completed"), std::string::npos) << ran.out;
}

TEST(TriCli, RunOfACompensatedSagaExits3AndWritesTheTrace) {
  const std::string trace = ::testing::TempDir() + "tri_cli_trace.jsonl";
  const Ran ran = RunTri("run examples/compensation.yaml --json --trace-json " + trace);
  EXPECT_EQ(ran.exit_code, 3) << ran.out;
  const auto result = nlohmann::json::parse(ran.out, nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << ran.out;
  EXPECT_EQ(result["outcome"], "compensated");
  std::ifstream in(trace);
  std::string line, last_event;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto event = nlohmann::json::parse(line);
    last_event = event["event"];
    ++lines;
  }
  EXPECT_GT(lines, 5);
  EXPECT_EQ(last_event, "saga_compensated");
}

TEST(TriCli, DemoJsonReportsTheFiveScenariosFromTheDurablePath) {
  const Ran ran = RunTri("demo --json");
  ASSERT_EQ(ran.exit_code, 0) << ran.out;
  const auto report = nlohmann::json::parse(ran.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << ran.out;
  ASSERT_EQ(report["scenarios"].size(), 5u);
  EXPECT_EQ(report["scenarios"][0]["name"], "diamond");
  EXPECT_EQ(report["scenarios"][0]["completed"], 30);
  EXPECT_EQ(report["scenarios"][1]["compensations"], 30);
  EXPECT_EQ(report["scenarios"][2]["timed_out"], 4);
  EXPECT_EQ(report["scenarios"][2]["cancelled"], 4);
  EXPECT_EQ(report["scenarios"][3]["completed"], 15);
  // The failover scenario: every saga finished with the diamond's counts after
  // its leader was stopped.
  EXPECT_EQ(report["scenarios"][4]["name"], "failover");
  EXPECT_EQ(report["scenarios"][4]["completed"], 20);
  EXPECT_EQ(report["scenarios"][4]["steps_succeeded"], 100);
  // Durable: every scenario went through the log.
  for (const auto& scenario : report["scenarios"]) {
    EXPECT_GT(scenario["entries_per_saga"].get<double>(), 0.0) << scenario["name"];
    EXPECT_GT(scenario["fsyncs_per_saga"].get<double>(), 0.0) << scenario["name"];
  }
}

}  // namespace
