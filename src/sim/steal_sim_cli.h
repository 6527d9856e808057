#pragma once

// `tri-sim steal`: the command line of the work-stealing simulation (steal_sim.h)
// and its goal table.

#include <CLI/CLI.hpp>
#include <string>

#include "sim/steal_sim.h"

namespace tri::sim {

struct StealSimCommandLine {
  StealSimOptions options;
  std::string seeds_text;
  std::string workloads_text = "skewed";
  std::string bug_text = "none";
  std::string estimates_text = "exact";
  std::string expect_violation;
  double goal_ratio = 1.2;
  bool require_goal = false;
  bool quiet = false;
};

// Registers the `steal` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddStealSimCommand(CLI::App& app, StealSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunStealSimCommand(StealSimCommandLine& args);

}  // namespace tri::sim
