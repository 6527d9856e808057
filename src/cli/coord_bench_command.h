#pragma once

// `tri bench lock|watch|lease`: the coordination benchmarks (client/lock_bench.h
// and its siblings), installed under `tri bench` by bench_command.cc.

#include <CLI/CLI.hpp>

namespace tri::cli {

void AddCoordinationBenchCommands(CLI::App* bench);

}  // namespace tri::cli
