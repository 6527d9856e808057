#pragma once

// The bounds every CRDT enforces (docs/crdt.md, "Bounds"). A mutator or merge that
// would pass one returns ResourceExhausted; a decoder refuses input past one with
// InvalidArgument naming the field. Defaults are generous: they stop a corrupt or
// hostile input from allocating without limit, not ordinary use.

#include <cstdint>

namespace tri::crdt {

struct Limits {
  // Distinct replicas in one version vector, dot set or counter.
  std::uint64_t max_replicas = 1 << 16;
  // Elements of one collection (set elements, map keys, register siblings, dots).
  std::uint64_t max_elements = 1 << 20;
  // Bytes of one value, element or key.
  std::uint64_t max_value_bytes = 1 << 20;
};

}  // namespace tri::crdt
