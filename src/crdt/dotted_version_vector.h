#pragma once

// DottedVersionVector: a causal context that may have gaps (docs/crdt.md, "Dotted
// version vectors"). A version vector records "every event of r up to c"; a delta
// that arrives before the deltas it follows adds a dot past a gap, which a version
// vector cannot hold without claiming the missing events. This is the compact
// form of Almeida, Shoker and Baquero's causal context ("Delta State Replicated
// Data Types", 2018, section 6): a version vector for the contiguous prefix plus
// the set of dots beyond it (the "dot cloud"). Dots that close a gap are folded
// into the prefix, so equal sets of dots have equal representations.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "base/result.h"
#include "crdt/limits.h"
#include "crdt/replica.h"
#include "crdt/version_vector.h"

namespace tri::crdt {

class DottedVersionVector {
 public:
  DottedVersionVector() = default;
  // The set of every dot `vv` contains.
  explicit DottedVersionVector(VersionVector vv) : prefix_(std::move(vv)) {}

  bool Contains(const Dot& dot) const;

  // Adds one dot (counter >= 1); a dot already contained is a no-op.
  void Add(const Dot& dot);

  // The dot following every dot of `replica` in this set (not added). Used by the
  // replica that owns the set to name its next event: that replica has seen all
  // its own events, so the dot is new everywhere.
  Dot NextDot(ReplicaId replica) const;

  // Set union. Commutative, associative, idempotent.
  void Merge(const DottedVersionVector& other);

  // The contiguous part: every dot r:c with c <= prefix().Get(r).
  const VersionVector& prefix() const { return prefix_; }
  // Dots past a gap, sorted; none is contained in prefix() or adjacent to it.
  const std::vector<Dot>& cloud() const { return cloud_; }
  bool empty() const { return prefix_.empty() && cloud_.empty(); }
  // Distinct replicas named (by the prefix or the cloud), for the max_replicas bound.
  std::size_t ReplicaCount() const;

  // "{1:3, 2:1} + [1:5]".
  std::string ToString() const;

  // Body without a header: the prefix's body (VersionVector::EncodeBody), then a
  // varint count and the cloud's dots as (replica, counter) varints.
  void EncodeBody(std::string& out) const;
  static Result<DottedVersionVector> DecodeBody(coding::Decoder& in, const Limits& limits,
                                                std::string_view type, std::string_view field);

  // Standalone: header (TypeTag::kDottedVersionVector) and body.
  std::string Encode() const;
  static Result<DottedVersionVector> Decode(std::string_view bytes, const Limits& limits = {});

  friend bool operator==(const DottedVersionVector&, const DottedVersionVector&) = default;

 private:
  // Folds cloud dots that extend the prefix into it and drops contained ones.
  void Compact();

  VersionVector prefix_;
  std::vector<Dot> cloud_;  // sorted, each counter > prefix_.Get(replica) + 1
};

}  // namespace tri::crdt
