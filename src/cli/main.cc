#include <CLI/CLI.hpp>

#include <cstdio>

#include "base/log.h"

int main(int argc, char** argv) {
  CLI::App app{"tri: a durable, distributed saga and workflow engine"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");

  auto* version = app.add_subcommand("version", "print the version");
  version->callback([] { std::printf("tri 0.1.0\n"); });

  CLI11_PARSE(app, argc, argv);
  return 0;
}
