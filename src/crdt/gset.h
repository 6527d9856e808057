#pragma once

// GSet: a grow-only set of byte strings (docs/crdt.md, "G-Set"). The state is the
// set; the join is union; the delta of add(e) is the G-Set {e}. Union is
// commutative, associative and idempotent, so deltas and states may be merged in
// any order, any number of times, and dropped deltas are made good by any later
// full-state merge (anti-entropy): no causal delivery is needed.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "crdt/limits.h"

namespace tri::crdt {

class GSet {
 public:
  explicit GSet(Limits limits = {}) : limits_(limits) {}

  // The delta mutator: adds `element` and returns the delta {element}.
  // InvalidArgument if the element is longer than max_value_bytes;
  // ResourceExhausted if a new element would pass max_elements (nothing changes).
  Result<GSet> Add(std::string_view element);

  bool Contains(std::string_view element) const;

  // Join with a state or a delta (they are the same type). ResourceExhausted if
  // the union would pass max_elements; the state is then unchanged.
  Status Merge(const GSet& other);

  // Sorted, distinct.
  const std::vector<std::string>& elements() const { return elements_; }
  std::size_t size() const { return elements_.size(); }
  bool empty() const { return elements_.empty(); }
  const Limits& limits() const { return limits_; }

  // "{a, b}" (bytes as they are).
  std::string ToString() const;

  // Header (TypeTag::kGSet, version), a varint count, then the elements in
  // ascending byte order, each length-prefixed.
  std::string Encode() const;
  // Refuses anything Encode does not write: unsorted or repeated elements, counts
  // or lengths past `limits`, trailing bytes; errors name the field and offset.
  static Result<GSet> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal elements (the limits are configuration, not state).
  friend bool operator==(const GSet& a, const GSet& b) { return a.elements_ == b.elements_; }

 private:
  Limits limits_;
  std::vector<std::string> elements_;  // sorted, distinct
};

}  // namespace tri::crdt
