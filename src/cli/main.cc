#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <string>

#include "base/log.h"
#include "cli/command.h"

int main(int argc, char** argv) {
  // A peer closing a connection must be an error on that write, not the
  // death of the process (httplib writes to sockets without MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"tri: a durable, distributed saga and workflow engine"};
  app.require_subcommand(1);
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
  app.parse_complete_callback([&] {
    if (auto st = tri::SetupLogging(log_level); !st.ok()) throw CLI::ValidationError(st.message());
  });

  auto* version = app.add_subcommand("version", "print the version");
  version->callback([] { std::printf("tri 0.1.0\n"); });

  tri::cli::InstallCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own exit status (see command.h)
  } catch (const CLI::ParseError& e) {
    // Help and version exit 0; every command-line mistake is a usage error, 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  return 0;
}
