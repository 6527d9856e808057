#pragma once

// The hybrid logical clock of Kulkarni, Demirbas et al., "Logical Physical Clocks
// and Consistent Snapshots in Globally Distributed Databases" (2014), Figure 5
// (docs/crdt.md, "Hybrid logical clock"). A timestamp is (l, c): l the largest
// physical time seen so far, c a counter ordering events that share l. It never
// goes backwards, respects causality like a Lamport clock, and stays within
// max_drift_ms of the local physical clock, because a remote timestamp further
// ahead than that is refused instead of dragging every clock forward.
//
// A pure core: the caller passes the physical time in (milliseconds of its
// clock); nothing here reads a clock.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/result.h"
#include "base/status.h"

namespace tri::crdt {

struct HlcTimestamp {
  std::uint64_t physical_ms = 0;  // l: the largest physical time seen
  std::uint64_t logical = 0;      // c: orders events sharing physical_ms

  friend bool operator==(const HlcTimestamp&, const HlcTimestamp&) = default;
  friend auto operator<=>(const HlcTimestamp&, const HlcTimestamp&) = default;

  // "physical_ms.logical".
  std::string ToString() const;

  // Body without a header (two varints), for types that embed a timestamp.
  void EncodeBody(std::string& out) const;
  static Result<HlcTimestamp> DecodeBody(coding::Decoder& in, std::string_view type,
                                         std::string_view field);

  // Standalone: header (TypeTag::kHlcTimestamp) and body.
  std::string Encode() const;
  static Result<HlcTimestamp> Decode(std::string_view bytes);
};

struct HlcOptions {
  // The most a remote timestamp may lead the local physical clock. Past it,
  // Update refuses the timestamp (OutOfRange) and the clock is unchanged.
  std::uint64_t max_drift_ms = 60'000;
};

class HybridLogicalClock {
 public:
  explicit HybridLogicalClock(HlcOptions options = {}) : options_(options) {}

  // A local or send event at physical time `physical_ms`: returns a timestamp
  // greater than every one this clock returned or received before.
  HlcTimestamp Now(std::uint64_t physical_ms);

  // A receive event: merges `remote` and returns a timestamp greater than both
  // `remote` and every earlier one of this clock. Refuses, leaving the clock
  // unchanged, a remote timestamp more than max_drift_ms ahead of `physical_ms`.
  Result<HlcTimestamp> Update(const HlcTimestamp& remote, std::uint64_t physical_ms);

  // The last timestamp returned (zero before the first event).
  const HlcTimestamp& last() const { return last_; }
  const HlcOptions& options() const { return options_; }

 private:
  HlcOptions options_;
  HlcTimestamp last_;
};

}  // namespace tri::crdt
