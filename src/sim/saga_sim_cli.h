#pragma once

// `tri-sim saga`: the command line of the saga simulation (saga_sim.h).

#include <CLI/CLI.hpp>
#include <string>

#include "sim/saga_sim.h"

namespace tri::sim {

struct SagaSimCommandLine {
  SagaSimOptions options;
  std::string seeds_text;
  std::string faults_text = "all";
  std::string bug_text = "none";
  std::string expect_violation;
  bool quiet = false;
};

// Registers the `saga` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddSagaSimCommand(CLI::App& app, SagaSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunSagaSimCommand(SagaSimCommandLine& args);

}  // namespace tri::sim
