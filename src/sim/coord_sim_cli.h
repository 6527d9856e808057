#pragma once

// `tri-sim coord`: the command line of the coordination simulation (coord_sim.h).

#include <CLI/CLI.hpp>
#include <string>

#include "sim/coord_sim.h"

namespace tri::sim {

struct CoordSimCommandLine {
  CoordSimOptions options;
  std::string seeds_text;
  std::string faults_text = "all";
  std::string bug_text = "none";
  std::string expect_violation;
  bool quiet = false;
};

// Registers the `coord` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddCoordSimCommand(CLI::App& app, CoordSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunCoordSimCommand(CoordSimCommandLine& args);

}  // namespace tri::sim
