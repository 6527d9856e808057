#pragma once

// Subcommands register themselves here, one file each, so that adding a
// command never edits main.cc. A command signals a non-zero exit status by
// throwing CLI::RuntimeError(code) from its callback (printed nothing by CLI11).

#include <CLI/CLI.hpp>
#include <string>

namespace tri::cli {

using CommandInstaller = void (*)(CLI::App& app);

// Called from a namespace-scope object in each command's .cc file:
//   static const tri::cli::CommandRegistration kReg("run", &InstallRunCommand);
struct CommandRegistration {
  CommandRegistration(const char* name, CommandInstaller installer);
};

// Installs every registered command into `app`, in name order.
void InstallCommands(CLI::App& app);

// Prints `message` to standard error and ends the command with `exit_code`
// (e.g. 2 for invalid input).
[[noreturn]] void ExitWithError(int exit_code, const std::string& message);

}  // namespace tri::cli
