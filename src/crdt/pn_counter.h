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
  // Delta mutators: the delta holds the one changed entry, already applied here.
  // Errors as GCounter::Increment.
  Result<PNCounter> Increment(ReplicaId replica, std::uint64_t amount = 1,
                              const Limits& limits = {});
  Result<PNCounter> Decrement(ReplicaId replica, std::uint64_t amount = 1,
                              const Limits& limits = {});

  // P - N, clamped to the int64 range.
  std::int64_t Value() const;

  void Merge(const PNCounter& other) {
    increments_.Merge(other.increments_);
    decrements_.Merge(other.decrements_);
  }

  const GCounter& increments() const { return increments_; }
  const GCounter& decrements() const { return decrements_; }

  Status CheckLimits(const Limits& limits) const;

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
