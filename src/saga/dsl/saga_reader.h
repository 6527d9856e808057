#pragma once

// Reading a parsed document tree into a SagaSpec: the saga's fields,
// defaults, inputs, steps, retry policies and timeouts. Values are checked
// one by one here; checks across fields and steps are validate.h's. Private
// to tri_saga_dsl (see node_reader.h).

#include <yaml-cpp/yaml.h>

#include "saga/dsl/node_reader.h"
#include "saga/dsl/validate.h"
#include "saga/spec.h"

namespace tri::saga::dsl {

// Fills `spec` and `map` from `root`, recording every error in the reader.
void ReadSagaDocument(NodeReader& reader, const YAML::Node& root, SagaSpec& spec,
                      SagaSourceMap& map);

}  // namespace tri::saga::dsl
