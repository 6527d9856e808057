// `tri wal check DIR` and `tri wal dump DIR [--from N]`: offline inspection of a
// write-ahead log directory. The logic lives in wal/inspect.h.
#include <iostream>
#include <memory>
#include <string>

#include "cli/command.h"
#include "io/posix_file_system.h"
#include "wal/inspect.h"

namespace tri::cli {

void AddWalCommands(CLI::App& app) {
  auto* wal = app.add_subcommand("wal", "inspect a write-ahead log directory (offline)");
  wal->require_subcommand(1);

  auto check_dir = std::make_shared<std::string>();
  auto* check = wal->add_subcommand(
      "check",
      "verify every record; report a torn tail or corruption (exit 1) with file and offset");
  check->add_option("DIR", *check_dir, "the WAL directory")->required();
  check->callback([check_dir] {
    const int rc = wal::RunWalCheck(io::PosixFileSystem::Instance(), *check_dir, std::cout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });

  auto dump_dir = std::make_shared<std::string>();
  auto from = std::make_shared<std::uint64_t>(0);
  auto* dump = wal->add_subcommand("dump", "print every record, then the same verdict as check");
  dump->add_option("DIR", *dump_dir, "the WAL directory")->required();
  dump->add_option("--from", *from, "print entries with index >= N only");
  dump->callback([dump_dir, from] {
    const int rc = wal::RunWalDump(io::PosixFileSystem::Instance(), *dump_dir, *from, std::cout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

namespace {
const CommandRegistration kWalCommand("wal", &AddWalCommands);
}  // namespace

}  // namespace tri::cli
