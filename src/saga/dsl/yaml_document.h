#pragma once

// Text to a YAML node tree, for both formats: JSON is first checked strictly
// (yaml-cpp would accept JSON with YAML's extensions), then both are loaded
// by yaml-cpp. Exactly one document is accepted. Private to tri_saga_dsl
// (see node_reader.h).

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>

#include "saga/dsl/diagnostic.h"
#include "saga/dsl/parser.h"

namespace tri::saga::dsl {

// The root of the one document in `text`, or nullopt with the (first) syntax
// error recorded. REQUIRES: `text` passed CheckDocumentText.
std::optional<YAML::Node> LoadDocumentTree(std::string_view text, const std::string& file,
                                           DocumentFormat format, Diagnostics& diagnostics);

}  // namespace tri::saga::dsl
