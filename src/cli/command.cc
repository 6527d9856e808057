#include "cli/command.h"

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
  for (const auto& [name, installer] : Registry()) installer(app);
}

}  // namespace tri::cli
