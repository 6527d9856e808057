// `tri demo [--json] [--scenario NAME]...`: runs the demo scenarios in this
// process on the real runtime and prints what was measured.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "demo/report.h"
#include "demo/scenarios.h"
#include "exec/runtime.h"

namespace tri::cli {
namespace {

struct DemoArgs {
  bool json = false;
  std::vector<std::string> only;
};

void RunDemo(const DemoArgs& args) {
  std::vector<demo::Scenario> scenarios;
  for (auto& scenario : demo::DefaultScenarios()) {
    if (args.only.empty() ||
        std::find(args.only.begin(), args.only.end(), scenario.name) != args.only.end()) {
      scenarios.push_back(std::move(scenario));
    }
  }
  if (scenarios.empty()) {
    ExitWithError(2, "no such scenario; the scenarios are diamond, failure, parallel, pipeline");
  }
  exec::Runtime runtime;
  std::vector<demo::ScenarioReport> reports;
  for (const auto& scenario : scenarios) {
    if (!args.json)
      std::printf("running %-9s %s\n", scenario.name.c_str(), scenario.description.c_str());
    std::fflush(stdout);
    auto report = demo::RunScenario(scenario, runtime);
    if (!report.ok()) {
      ExitWithError(1, report.status().ToString());
    }
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
      "demo", "run the demo scenarios (diamond, failure, parallel, pipeline) in process");
  cmd->add_flag("--json", args->json, "print the measurements as JSON");
  cmd->add_option("--scenario", args->only, "run only this scenario (repeatable)");
  cmd->callback([args] { RunDemo(*args); });
}

const CommandRegistration kRegistration("demo", &InstallDemoCommand);

}  // namespace
}  // namespace tri::cli
