#pragma once

// `tri-sim swim`: the command line of the SWIM simulation (swim_sim.h) and of
// its goal runs (swim_goals.h).

#include <CLI/CLI.hpp>
#include <string>

#include "sim/swim_sim.h"

namespace tri::sim {

struct SwimSimCommandLine {
  SwimSimOptions options;
  std::string seeds_text;
  std::string bug_text = "none";
  std::string expect_violation;
  bool no_lifeguard = false;
  bool no_stall_handling = false;
  std::string stall_resume = "timers-first";
  bool quiet = false;
  bool goals = false;
  std::string goals_only = "all";
  int fp_nodes = 100;
  Millis fp_duration_ms = 3'600'000;
  int jobs = 1;
};

// Registers the `swim` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddSwimSimCommand(CLI::App& app, SwimSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunSwimSimCommand(SwimSimCommandLine& args);

}  // namespace tri::sim
