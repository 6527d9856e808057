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
  GCounter() = default;
  explicit GCounter(Limits limits) : limits_(limits) {}

  // Delta mutator: adds `amount` to `replica`'s count and returns the delta (that
  // replica's new count alone), already applied here. Refuses a count past 2^64-1
  // (OutOfRange) and a new replica past max_replicas (ResourceExhausted); nothing
  // changes then.
  Result<GCounter> Increment(ReplicaId replica, std::uint64_t amount = 1);

  // The sum of all counts; saturates at 2^64-1 (only concurrent increments that
  // each passed the per-replica check can get there).
  std::uint64_t Value() const;
  std::uint64_t Get(ReplicaId replica) const { return counts_.Get(replica); }

  // The join (per-replica maximum); also applies a delta. ResourceExhausted if
  // the result would count more than max_replicas replicas; nothing changes then.
  Status Merge(const GCounter& other);
  // The error Merge(other) would return, without merging.
  Status CheckMerge(const GCounter& other) const;

  // Per replica, {replica, count}, ordered by replica.
  const std::vector<Dot>& entries() const { return counts_.entries(); }

  const Limits& limits() const { return limits_; }

  std::string ToString() const { return counts_.ToString(); }

  // Body: a version vector body (VersionVector::EncodeBody) of the counts.
  void EncodeBody(std::string& out) const { counts_.EncodeBody(out); }
  static Result<GCounter> DecodeBody(coding::Decoder& in, const Limits& limits,
                                     std::string_view type, std::string_view field);
  // Header (TypeTag::kGCounter) and body.
  std::string Encode() const;
  static Result<GCounter> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal counts (the limits are configuration, not state).
  friend bool operator==(const GCounter& a, const GCounter& b) { return a.counts_ == b.counts_; }

 private:
  Limits limits_;
  VersionVector counts_;
};

}  // namespace tri::crdt
