#include "crdt/hlc.h"

#include <algorithm>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

std::string HlcTimestamp::ToString() const {
  return std::to_string(physical_ms) + "." + std::to_string(logical);
}

void HlcTimestamp::EncodeBody(std::string& out) const {
  coding::PutVarint64(out, physical_ms);
  coding::PutVarint64(out, logical);
}

Result<HlcTimestamp> HlcTimestamp::DecodeBody(coding::Decoder& in, std::string_view type,
                                              std::string_view field) {
  HlcTimestamp ts;
  TRI_RETURN_IF_ERROR(
      ReadVarintField(in, type, std::string(field) + ".physical_ms", ts.physical_ms));
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, std::string(field) + ".logical", ts.logical));
  return ts;
}

std::string HlcTimestamp::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kHlcTimestamp);
  EncodeBody(out);
  return out;
}

Result<HlcTimestamp> HlcTimestamp::Decode(std::string_view bytes) {
  constexpr std::string_view kType = "hlc timestamp";
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kHlcTimestamp, kType));
  TRI_ASSIGN_OR_RETURN(HlcTimestamp ts, DecodeBody(in, kType, "timestamp"));
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return ts;
}

namespace {

// The paper's rule for c: continue the counter of whichever inputs hold the new
// l, restart at 0 when only the physical clock does.
std::uint64_t NextLogical(std::uint64_t l, const HlcTimestamp& a, const HlcTimestamp& b) {
  std::uint64_t c = 0;
  bool continued = false;
  for (const HlcTimestamp* t : {&a, &b}) {
    if (t->physical_ms == l) {
      c = continued ? std::max(c, t->logical) : t->logical;
      continued = true;
    }
  }
  if (!continued) return 0;
  TRI_ASSERT_MSG(c < UINT64_MAX, "hlc logical counter overflow");
  return c + 1;
}

}  // namespace

HlcTimestamp HybridLogicalClock::Now(std::uint64_t physical_ms) {
  const HlcTimestamp previous = last_;
  const std::uint64_t l = std::max(previous.physical_ms, physical_ms);
  last_ = HlcTimestamp{l, NextLogical(l, previous, previous)};
  TRI_ASSERT(previous < last_);
  return last_;
}

Result<HlcTimestamp> HybridLogicalClock::Update(const HlcTimestamp& remote,
                                                std::uint64_t physical_ms) {
  if (remote.physical_ms > physical_ms &&
      remote.physical_ms - physical_ms > options_.max_drift_ms) {
    return OutOfRange("hlc: remote timestamp " + remote.ToString() + " is " +
                      std::to_string(remote.physical_ms - physical_ms) +
                      " ms ahead of the local physical clock " + std::to_string(physical_ms) +
                      " ms, past max_drift_ms " + std::to_string(options_.max_drift_ms) +
                      "; refused (the sender's clock or this one is wrong)");
  }
  const HlcTimestamp previous = last_;
  const std::uint64_t l = std::max({previous.physical_ms, remote.physical_ms, physical_ms});
  last_ = HlcTimestamp{l, NextLogical(l, previous, remote)};
  TRI_ASSERT(previous < last_);
  TRI_ASSERT(remote < last_);
  return last_;
}

}  // namespace tri::crdt
