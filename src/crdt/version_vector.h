#pragma once

// VersionVector: one counter per replica, the causal history "every event of
// replica r up to counter c" (docs/crdt.md, "Version vectors"). Also the vector
// clock of the conflict strategies (crdt/conflict.h): the same value, compared
// with Compare.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "base/status.h"
#include "crdt/limits.h"
#include "crdt/replica.h"

namespace tri::crdt {

// How two causal histories relate: this one happened before the other (strictly
// contained), after it, equal, or neither (concurrent).
enum class CausalOrder : std::uint8_t { kBefore, kAfter, kEqual, kConcurrent };

std::string_view CausalOrderName(CausalOrder order);

class VersionVector {
 public:
  VersionVector() = default;

  // The highest counter seen from `replica` (0 if none).
  std::uint64_t Get(ReplicaId replica) const;

  // Records the next event of `replica` and returns its dot (counter Get + 1).
  Dot Increment(ReplicaId replica);

  // Whether the history holds the event `dot` (dot.counter <= Get(dot.replica)).
  bool Contains(const Dot& dot) const;

  // Raises the entry of dot.replica to at least dot.counter. A version vector has
  // no gaps: adding a dot adds every earlier event of its replica too (a dotted
  // version vector, crdt/dotted_version_vector.h, keeps gaps).
  void Add(const Dot& dot);

  // The join: the entry-wise maximum. Commutative, associative, idempotent.
  void Merge(const VersionVector& other);

  // How many entries Merge(other) would leave, without merging (for bounds).
  std::size_t MergedSize(const VersionVector& other) const;

  // The relation of this history to `other`.
  CausalOrder Compare(const VersionVector& other) const;

  // Whether this history contains `other` (Compare is kAfter or kEqual).
  bool Descends(const VersionVector& other) const;

  // Entries with a counter of at least 1, ordered by replica: the canonical form,
  // so equal histories are equal vectors.
  const std::vector<Dot>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // "{1:3, 7:1}".
  std::string ToString() const;

  // The body without a header, for types that embed a version vector: a varint
  // count, then per entry the replica id as a varint gap from the previous one
  // (the first absolute) and the counter as a varint.
  void EncodeBody(std::string& out) const;
  // Reads a body written by EncodeBody; `type` and `field` name it in errors.
  static Result<VersionVector> DecodeBody(coding::Decoder& in, const Limits& limits,
                                          std::string_view type, std::string_view field);

  // The standalone encoding: header (TypeTag::kVersionVector) and body.
  std::string Encode() const;
  static Result<VersionVector> Decode(std::string_view bytes, const Limits& limits = {});

  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  std::vector<Dot> entries_;  // sorted by replica, counters >= 1
};

// The name used where a version vector orders versions rather than summarising
// a replica's state (the conflict strategies).
using VectorClock = VersionVector;

}  // namespace tri::crdt
