#pragma once

// G-Counter: a grow-only counter (Shapiro et al. 2011, specification 6; delta form
// from Almeida et al. 2018). The state is one count per replica, each replica
// incrementing only its own; the value is the sum; merge takes the per-replica
// maximum. The state has exactly the shape of a version vector (replica -> count,
// joined by maximum), so it is stored as one.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/result.h"
#include "base/status.h"
#include "crdt/limits.h"
#include "crdt/replica.h"
#include "crdt/version_vector.h"

namespace tri::crdt {

class GCounter {
 public:
  // Delta mutator: adds `amount` to `replica`'s count and returns the delta (that
  // replica's new count alone), already applied here. Refuses a count past 2^64-1
  // (OutOfRange) and a new replica past limits.max_replicas (ResourceExhausted).
  Result<GCounter> Increment(ReplicaId replica, std::uint64_t amount = 1,
                             const Limits& limits = {});

  // The sum of all counts; saturates at 2^64-1 (only concurrent increments that
  // each passed the per-replica check can get there).
  std::uint64_t Value() const;
  std::uint64_t Get(ReplicaId replica) const { return counts_.Get(replica); }

  // The join (per-replica maximum); also applies a delta.
  void Merge(const GCounter& other) { counts_.Merge(other.counts_); }

  // Per replica, {replica, count}, ordered by replica.
  const std::vector<Dot>& entries() const { return counts_.entries(); }

  // Whether a merged state is within the bounds (max_replicas).
  Status CheckLimits(const Limits& limits) const;

  std::string ToString() const { return counts_.ToString(); }

  // Body: a version vector body (VersionVector::EncodeBody) of the counts.
  void EncodeBody(std::string& out) const { counts_.EncodeBody(out); }
  static Result<GCounter> DecodeBody(coding::Decoder& in, const Limits& limits,
                                     std::string_view type, std::string_view field);
  // Header (TypeTag::kGCounter) and body.
  std::string Encode() const;
  static Result<GCounter> Decode(std::string_view bytes, const Limits& limits = {});

  friend bool operator==(const GCounter&, const GCounter&) = default;

 private:
  VersionVector counts_;
};

}  // namespace tri::crdt
