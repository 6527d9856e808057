#pragma once

// `tri-sim node`: the command line of the node simulation (node_sim.h), kept
// apart from tri_sim_main.cc so the raft subcommand's file stays as it is.

#include <CLI/CLI.hpp>
#include <string>

#include "sim/node_sim.h"

namespace tri::sim {

struct NodeSimCommandLine {
  NodeSimOptions options;
  std::string seeds_text;
  std::string faults_text = "none";
  std::string bug_text = "none";
  std::string expect_violation;
  bool quiet = false;
};

// Registers the `node` subcommand on `app`, parsing into `args` (which must outlive app).
CLI::App* AddNodeSimCommand(CLI::App& app, NodeSimCommandLine* args);

// Runs the parsed command; the exit status (0 pass, 1 fail, 2 bad arguments).
int RunNodeSimCommand(NodeSimCommandLine& args);

}  // namespace tri::sim
