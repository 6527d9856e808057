#pragma once

// `tri-sim placement`: the command line of the placement simulation (placement_sim.h).

#include <CLI/CLI.hpp>
#include <string>

#include "sim/placement_sim.h"

namespace tri::sim {

struct PlacementSimCommandLine {
  PlacementSimOptions options;
  std::string seeds_text;
  std::string bug_text = "none";
  std::string expect_violation;
};

// Registers the `placement` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddPlacementSimCommand(CLI::App& app, PlacementSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunPlacementSimCommand(PlacementSimCommandLine& args);

}  // namespace tri::sim
