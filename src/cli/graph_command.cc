// `tri graph FILE [--dot]`: the dependency levels of a saga, as text
// ("level 0: a" ...) or as a Graphviz digraph. Exit 2 on invalid input.

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/read_document.h"
#include "saga/graph.h"

namespace tri::cli {
namespace {

std::string DotQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void PrintLevels(const saga::SagaSpec& spec, const saga::SagaGraph& graph) {
  std::vector<std::vector<saga::StepIndex>> levels(graph.depth());
  for (saga::StepIndex s = 0; s < graph.size(); ++s)
    levels[graph.level(s)].push_back(s);
  for (std::size_t level = 0; level < levels.size(); ++level) {
    std::string line = "level " + std::to_string(level) + ":";
    for (std::size_t i = 0; i < levels[level].size(); ++i) {
      line += (i == 0 ? " " : ", ") + spec.steps[levels[level][i]].id;
    }
    std::printf("%s\n", line.c_str());
  }
}

void PrintDot(const saga::SagaSpec& spec, const saga::SagaGraph& graph) {
  std::printf("digraph %s {\n  rankdir=LR;\n  node [shape=box];\n", DotQuote(spec.name).c_str());
  std::vector<std::vector<saga::StepIndex>> levels(graph.depth());
  for (saga::StepIndex s = 0; s < graph.size(); ++s)
    levels[graph.level(s)].push_back(s);
  for (std::size_t level = 0; level < levels.size(); ++level) {
    std::printf("  { rank=same;");
    for (saga::StepIndex s : levels[level]) {
      const saga::StepSpec& step = spec.steps[s];
      std::string label = step.id + "\\n" + saga::ActionKindName(step.run);
      if (step.compensate)
        label += std::string(" / undo: ") + saga::ActionKindName(*step.compensate);
      std::printf(" %s [label=\"%s\"];", DotQuote(step.id).c_str(), label.c_str());
    }
    std::printf(" }\n");
  }
  for (saga::StepIndex s = 0; s < graph.size(); ++s) {
    for (saga::StepIndex need : graph.needs(s)) {
      std::printf("  %s -> %s;\n", DotQuote(spec.steps[need].id).c_str(),
                  DotQuote(spec.steps[s].id).c_str());
    }
  }
  std::printf("}\n");
}

void InstallGraphCommand(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("graph", "print a saga's dependency levels (or Graphviz with --dot)");
  auto file = std::make_shared<std::string>();
  auto dot = std::make_shared<bool>(false);
  cmd->add_option("FILE", *file, "saga file, or - for standard input")->required();
  cmd->add_flag("--dot", *dot, "print a Graphviz digraph instead of levels");
  cmd->callback([file, dot] {
    auto spec = LoadSagaDocument(*file);
    if (!spec.ok()) ExitWithError(2, spec.status().message());
    auto graph = saga::SagaGraph::FromSpec(*spec);
    TRI_ASSERT_MSG(graph.ok(), "a validated saga has an acyclic graph");
    if (*dot) {
      PrintDot(*spec, *graph);
    } else {
      PrintLevels(*spec, *graph);
    }
  });
}

const CommandRegistration kRegistration("graph", &InstallGraphCommand);

}  // namespace
}  // namespace tri::cli
