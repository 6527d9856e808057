#pragma once

// LWW register: the value of the write with the largest LwwStamp (HLC timestamp,
// then replica id) wins (Shapiro et al. 2011, specification 8). The state is the
// winning write itself, so a delta is a register holding one write, and merge
// keeps the larger of two. Concurrent writes lose silently; use the MV register
// (crdt/mv_register.h) to keep them.

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "crdt/limits.h"
#include "crdt/lww_stamp.h"

namespace tri::crdt {

class LwwRegister {
 public:
  LwwRegister() = default;
  explicit LwwRegister(Limits limits) : limits_(limits) {}

  // Delta mutator: a write of `value` stamped `stamp` (the writer's HLC Now and its
  // replica id). Returns the delta (a register holding this write), merged here; a
  // stamp not above the current one loses, as any late write does. Refuses a value
  // longer than max_value_bytes (ResourceExhausted).
  Result<LwwRegister> Set(std::string value, const LwwStamp& stamp);

  bool has_value() const { return has_value_; }
  // The winning value ("" before any write).
  const std::string& value() const { return value_; }
  // The winning write's stamp (zero before any write).
  const LwwStamp& stamp() const { return stamp_; }

  // Keeps the larger write: by stamp, and for equal stamps (a replica that
  // reused one) by value bytes, so merge stays commutative even then.
  // ResourceExhausted if the winner's value is longer than this register's
  // max_value_bytes; nothing changes then.
  Status Merge(const LwwRegister& other);

  const Limits& limits() const { return limits_; }
  std::string ToString() const;

  // Header (TypeTag::kLwwRegister), a presence byte (0 or 1), then when present
  // the stamp (timestamp varints, replica varint) and the length-prefixed value.
  std::string Encode() const;
  static Result<LwwRegister> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal writes (the limits are configuration, not state).
  friend bool operator==(const LwwRegister& a, const LwwRegister& b) {
    return a.has_value_ == b.has_value_ && a.stamp_ == b.stamp_ && a.value_ == b.value_;
  }

 private:
  Limits limits_;
  bool has_value_ = false;
  LwwStamp stamp_;
  std::string value_;
};

}  // namespace tri::crdt
