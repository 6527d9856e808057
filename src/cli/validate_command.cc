// `tri validate FILE`: parse and validate a saga; print a summary or every error.
// Exit 0 when valid, 2 when not (or when the file cannot be read).

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/read_document.h"
#include "saga/graph.h"

namespace tri::cli {
namespace {

void InstallValidateCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate", "check a saga file (YAML or JSON); exit 2 if invalid");
  auto file = std::make_shared<std::string>();
  cmd->add_option("FILE", *file, "saga file, or - for standard input")->required();
  cmd->callback([file] {
    auto spec = LoadSagaDocument(*file);
    if (!spec.ok()) ExitWithError(2, spec.status().message());
    auto graph = saga::SagaGraph::FromSpec(*spec);
    TRI_ASSERT_MSG(graph.ok(), "a validated saga has an acyclic graph");
    std::printf("ok: saga '%s': %zu step%s, %u level%s\n", spec->name.c_str(), spec->steps.size(),
                spec->steps.size() == 1 ? "" : "s", graph->depth(), graph->depth() == 1 ? "" : "s");
  });
}

const CommandRegistration kRegistration("validate", &InstallValidateCommand);

}  // namespace
}  // namespace tri::cli
