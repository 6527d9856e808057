#pragma once

// The total order of last-writer-wins (docs/crdt.md, "LWW register"): a write's
// hybrid logical clock timestamp, ties broken by the writing replica's id, so
// every replica picks the same winner without coordination. Two writes share a
// stamp only if one replica reuses a timestamp, which its own HLC never does.

#include <compare>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/result.h"
#include "crdt/hlc.h"
#include "crdt/replica.h"

namespace tri::crdt {

struct LwwStamp {
  HlcTimestamp timestamp;
  ReplicaId replica = 0;

  friend bool operator==(const LwwStamp&, const LwwStamp&) = default;
  friend auto operator<=>(const LwwStamp&, const LwwStamp&) = default;

  // "physical_ms.logical@replica".
  std::string ToString() const { return timestamp.ToString() + "@" + std::to_string(replica); }

  void EncodeBody(std::string& out) const {
    timestamp.EncodeBody(out);
    coding::PutVarint64(out, replica);
  }
  static Result<LwwStamp> DecodeBody(coding::Decoder& in, std::string_view type,
                                     std::string_view field);
};

}  // namespace tri::crdt
