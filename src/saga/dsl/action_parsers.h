#pragma once

// Reading an action (`run:` or `compensate:`): a map with exactly one key,
// the kind, whose value holds that kind's fields. Each kind (noop, sleep,
// fail, exec, http) has one entry in a table: its name, its fields and its
// parse function. Private to tri_saga_dsl (see node_reader.h).

#include <optional>
#include <string_view>

#include "saga/dsl/node_reader.h"
#include "saga/spec.h"

namespace tri::saga::dsl {

// Reads the action under `entry` (field `field` of `where`, e.g. "run").
// Returns nullopt when it has errors (all recorded). Templated strings are
// located in `locations` as "run.exec.argv[0]" and so on.
std::optional<Action> ReadAction(NodeReader& reader, const Entry& entry, const Where& where,
                                 std::string_view field, FieldLocations* locations);

}  // namespace tri::saga::dsl
