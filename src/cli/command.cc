#include "cli/command.h"

#include <cstdio>
#include <map>
#include <string>

namespace tri::cli {
namespace {

std::map<std::string, CommandInstaller>& Registry() {
  static std::map<std::string, CommandInstaller> registry;
  return registry;
}

}  // namespace

CommandRegistration::CommandRegistration(const char* name, CommandInstaller installer) {
  Registry().emplace(name, installer);
}

void InstallCommands(CLI::App& app) {
  for (const auto& [name, installer] : Registry())
    installer(app);
}

void ExitWithError(int exit_code, const std::string& message) {
  std::fprintf(stderr, "%s\n", message.c_str());
  throw CLI::RuntimeError(exit_code);
}

}  // namespace tri::cli
