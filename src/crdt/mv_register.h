#pragma once

// Multi-value register: a write replaces every value its writer has seen;
// concurrent writes are all kept as siblings until a later write that has seen
// them all (Shapiro et al. 2011, specification 10; the causal delta form of
// Almeida et al. 2018, Figure 6, "MVRegister"). The state is a dot store — each
// live value tagged with the dot of the write that made it — and a causal
// context, the dots of every write seen (kept with gaps, so deltas may arrive in
// any order). Merge keeps a value when the other side holds it too or has not
// seen its dot; a value the other side has seen and dropped was overwritten.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "crdt/dotted_version_vector.h"
#include "crdt/limits.h"
#include "crdt/replica.h"

namespace tri::crdt {

class MvRegister {
 public:
  struct Entry {
    Dot dot;
    std::string value;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  MvRegister() = default;
  explicit MvRegister(Limits limits) : limits_(limits) {}

  // Delta mutator: `replica` writes `value`, replacing every value present here.
  // The delta holds the new value under a fresh dot and, as its context, this
  // replica's whole causal context with that dot; it is merged here. Refuses a
  // value longer than max_value_bytes and a new replica past max_replicas
  // (ResourceExhausted); nothing changes then.
  Result<MvRegister> Write(ReplicaId replica, std::string value);

  // The sibling values, sorted by bytes, duplicates kept once.
  std::vector<std::string> Values() const;
  // Live values ordered by dot.
  const std::vector<Entry>& entries() const { return entries_; }
  const DottedVersionVector& context() const { return context_; }

  // The join. ResourceExhausted if the result would hold more than max_elements
  // siblings, a value longer than max_value_bytes or a context naming more than
  // max_replicas replicas; nothing changes then.
  Status Merge(const MvRegister& other);

  const Limits& limits() const { return limits_; }
  std::string ToString() const;

  // Header (TypeTag::kMvRegister), the context (DottedVersionVector::EncodeBody),
  // a varint entry count, then per entry its dot (two varints) and the
  // length-prefixed value. Entries are in dot order and their dots in the context.
  std::string Encode() const;
  static Result<MvRegister> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal values and context (the limits are configuration, not state).
  friend bool operator==(const MvRegister& a, const MvRegister& b) {
    return a.entries_ == b.entries_ && a.context_ == b.context_;
  }

 private:
  Limits limits_;
  std::vector<Entry> entries_;  // sorted by dot, every dot in context_
  DottedVersionVector context_;
};

}  // namespace tri::crdt
