#include "crdt/pn_counter.h"

#include <limits>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

Result<PNCounter> PNCounter::Increment(ReplicaId replica, std::uint64_t amount) {
  TRI_ASSIGN_OR_RETURN(GCounter half, increments_.Increment(replica, amount));
  PNCounter delta(limits());
  delta.increments_ = std::move(half);
  return delta;
}

Result<PNCounter> PNCounter::Decrement(ReplicaId replica, std::uint64_t amount) {
  TRI_ASSIGN_OR_RETURN(GCounter half, decrements_.Increment(replica, amount));
  PNCounter delta(limits());
  delta.decrements_ = std::move(half);
  return delta;
}

std::int64_t PNCounter::Value() const {
  const __int128 value =
      static_cast<__int128>(increments_.Value()) - static_cast<__int128>(decrements_.Value());
  if (value > std::numeric_limits<std::int64_t>::max()) {
    return std::numeric_limits<std::int64_t>::max();
  }
  if (value < std::numeric_limits<std::int64_t>::min()) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(value);
}

Status PNCounter::Merge(const PNCounter& other) {
  // Both halves or neither.
  TRI_RETURN_IF_ERROR(
      increments_.CheckMerge(other.increments_).WithContext("pn-counter increments"));
  TRI_RETURN_IF_ERROR(
      decrements_.CheckMerge(other.decrements_).WithContext("pn-counter decrements"));
  TRI_ASSERT(increments_.Merge(other.increments_).ok());
  TRI_ASSERT(decrements_.Merge(other.decrements_).ok());
  return Status::Ok();
}

std::string PNCounter::ToString() const {
  return "+" + increments_.ToString() + " -" + decrements_.ToString();
}

std::string PNCounter::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kPNCounter);
  increments_.EncodeBody(out);
  decrements_.EncodeBody(out);
  return out;
}

Result<PNCounter> PNCounter::Decode(std::string_view bytes, const Limits& limits) {
  constexpr std::string_view kType = "pn-counter";
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kPNCounter, kType));
  PNCounter counter(limits);
  TRI_ASSIGN_OR_RETURN(counter.increments_, GCounter::DecodeBody(in, limits, kType, "increments"));
  TRI_ASSIGN_OR_RETURN(counter.decrements_, GCounter::DecodeBody(in, limits, kType, "decrements"));
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return counter;
}

}  // namespace tri::crdt
