#pragma once

// `tri-sim lincheck FILE`: checks a client history recorded as JSON lines
// (history_json.h) for linearizability with CheckKvLinearizability.
//
// Exit status: 0 linearizable; 1 not linearizable (the failing key and the
// reason are printed); 2 inconclusive (search budget spent) or bad input.

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace tri::sim {

class LincheckCommand {
 public:
  // Registers the subcommand on `app`; `app` must outlive this object.
  explicit LincheckCommand(CLI::App& app);

  // True when the parsed command line selected `lincheck`.
  bool Selected() const { return command_->parsed(); }

  // Runs the check; returns the exit status above.
  int Run() const;

 private:
  CLI::App* command_;
  std::string path_;
  std::uint64_t max_search_steps_per_key_;
};

}  // namespace tri::sim
