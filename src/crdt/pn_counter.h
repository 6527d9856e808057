#pragma once

// PN-Counter: a counter that goes up and down (Shapiro et al. 2011, specification
// 7), two G-Counters: increments P and decrements N; the value is P - N.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "crdt/g_counter.h"
#include "crdt/limits.h"
#include "crdt/replica.h"

namespace tri::crdt {

class PNCounter {
 public:
  PNCounter() = default;
  explicit PNCounter(Limits limits) : increments_(limits), decrements_(limits) {}

  // Delta mutators: the delta holds the one changed entry, already applied here.
  // Errors as GCounter::Increment (max_replicas applies to each half).
  Result<PNCounter> Increment(ReplicaId replica, std::uint64_t amount = 1);
  Result<PNCounter> Decrement(ReplicaId replica, std::uint64_t amount = 1);

  // P - N, clamped to the int64 range.
  std::int64_t Value() const;

  // Joins each half. ResourceExhausted if either would pass max_replicas; nothing
  // changes then.
  Status Merge(const PNCounter& other);

  const GCounter& increments() const { return increments_; }
  const GCounter& decrements() const { return decrements_; }
  const Limits& limits() const { return increments_.limits(); }

  // "+{...} -{...}".
  std::string ToString() const;

  // Header (TypeTag::kPNCounter), then the increments' and decrements' bodies.
  std::string Encode() const;
  static Result<PNCounter> Decode(std::string_view bytes, const Limits& limits = {});

  friend bool operator==(const PNCounter&, const PNCounter&) = default;

 private:
  GCounter increments_;
  GCounter decrements_;
};

}  // namespace tri::crdt
