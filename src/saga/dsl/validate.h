#pragma once

// Cross-field validation of a saga: ids, references between steps, the
// dependency graph (cycles, depth), limits, inputs and templates. The parser
// runs it after reading the document; code that builds a SagaSpec by hand can
// run it directly (errors then carry no line numbers).

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "saga/dsl/diagnostic.h"
#include "saga/spec.h"

namespace tri::saga {

// Where things are in the source document, for error messages. Produced by
// the parser; every member may be left empty (unknown location).
struct SagaSourceMap {
  struct Step {
    bool id_present = true;  // false: the parser already reported the missing id
    SourceLocation id;
    SourceLocation needs;
    std::vector<SourceLocation> need_items;  // parallel to StepSpec::needs
    // Templated string fields by DSL path, e.g. "run.exec.argv[0]".
    std::map<std::string, SourceLocation> fields;
  };
  std::string file;
  SourceLocation steps;
  SourceLocation inputs;
  std::vector<Step> step_locations;  // parallel to SagaSpec::steps (may be shorter)
};

// A step or input id: 1..128 of [A-Za-z0-9_-].
bool IsValidId(std::string_view id);

// Adds every problem found to `diagnostics`.
void ValidateSaga(const SagaSpec& spec, const SagaLimits& limits, const SagaSourceMap* source_map,
                  Diagnostics& diagnostics);

// For hand-built specs: ok, or kInvalidArgument listing every problem.
Status ValidateSaga(const SagaSpec& spec, const SagaLimits& limits = {});

}  // namespace tri::saga
