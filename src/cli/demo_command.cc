// `tri demo [--json] [--scenario NAME]...`: runs the demo scenarios on the
// durable path — an embedded one-member node (temporary data directory, fsync
// on) for diamond, failure, parallel and pipeline; three members in this
// process for failover — and prints what was measured.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "demo/durable.h"
#include "demo/report.h"
#include "demo/scenarios.h"

namespace tri::cli {
namespace {

struct DemoArgs {
  bool json = false;
  std::vector<std::string> only;
};

constexpr std::uint32_t kFailoverSagas = 20;

bool Wanted(const DemoArgs& args, const std::string& name) {
  return args.only.empty() ||
         std::find(args.only.begin(), args.only.end(), name) != args.only.end();
}

void RunDemo(const DemoArgs& args) {
  std::vector<demo::Scenario> scenarios;
  for (auto& scenario : demo::DefaultScenarios()) {
    if (Wanted(args, scenario.name)) scenarios.push_back(std::move(scenario));
  }
  const bool failover = Wanted(args, "failover");
  if (scenarios.empty() && !failover) {
    ExitWithError(2,
                  "no such scenario; the scenarios are diamond, failure, parallel, pipeline, "
                  "failover");
  }
  // Quiet: the members' logs would drown the report.
  spdlog::set_level(spdlog::level::err);
  std::vector<demo::ScenarioReport> reports;
  auto announce = [&](const std::string& name, const std::string& description) {
    if (!args.json) std::printf("running %-9s %s\n", name.c_str(), description.c_str());
    std::fflush(stdout);
  };
  if (!scenarios.empty()) {
    auto cluster = demo::EmbeddedCluster::Start(demo::EmbeddedCluster::Options{});
    if (!cluster.ok()) ExitWithError(1, "tri demo: " + cluster.status().ToString());
    for (const auto& scenario : scenarios) {
      announce(scenario.name, scenario.description);
      auto report = demo::RunScenarioDurable(scenario, **cluster, 0);
      if (!report.ok()) ExitWithError(1, report.status().ToString());
      reports.push_back(std::move(*report));
    }
  }
  if (failover) {
    announce("failover", std::to_string(kFailoverSagas) +
                             " diamonds on 3 members; the leader is stopped mid-way");
    auto report = demo::RunFailoverScenario(kFailoverSagas);
    if (!report.ok()) ExitWithError(1, report.status().ToString());
    reports.push_back(std::move(*report));
  }
  if (args.json) {
    std::printf("%s\n", demo::ReportsToJson(reports)
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::printf("\n%s", demo::ReportsTable(reports).c_str());
  }
}

void InstallDemoCommand(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo",
      "run the demo scenarios (diamond, failure, parallel, pipeline, failover) on embedded nodes");
  cmd->add_flag("--json", args->json, "print the measurements as JSON");
  cmd->add_option("--scenario", args->only, "run only this scenario (repeatable)");
  cmd->callback([args] { RunDemo(*args); });
}

const CommandRegistration kRegistration("demo", &InstallDemoCommand);

}  // namespace
}  // namespace tri::cli
