#include "crdt/g_counter.h"

#include "crdt/encoding.h"

namespace tri::crdt {

Result<GCounter> GCounter::Increment(ReplicaId replica, std::uint64_t amount) {
  const std::uint64_t current = counts_.Get(replica);
  if (amount > UINT64_MAX - current) {
    return OutOfRange("g-counter: replica " + std::to_string(replica) + "'s count " +
                      std::to_string(current) + " + " + std::to_string(amount) +
                      " overflows 64 bits");
  }
  if (current == 0 && amount > 0 && counts_.size() >= limits_.max_replicas) {
    return ResourceExhausted("g-counter: replica " + std::to_string(replica) +
                             " would be replica " + std::to_string(counts_.size() + 1) +
                             ", past max_replicas " + std::to_string(limits_.max_replicas));
  }
  GCounter delta(limits_);
  if (current + amount > 0) {
    delta.counts_.Add(Dot{replica, current + amount});
    counts_.Add(Dot{replica, current + amount});
  }
  return delta;
}

std::uint64_t GCounter::Value() const {
  std::uint64_t sum = 0;
  for (const Dot& entry : counts_.entries()) {
    if (entry.counter > UINT64_MAX - sum) return UINT64_MAX;
    sum += entry.counter;
  }
  return sum;
}

Status GCounter::Merge(const GCounter& other) {
  TRI_RETURN_IF_ERROR(CheckMerge(other));
  counts_.Merge(other.counts_);
  return Status::Ok();
}

Status GCounter::CheckMerge(const GCounter& other) const {
  if (other.counts_.empty()) return Status::Ok();
  const std::size_t joined = counts_.MergedSize(other.counts_);
  if (joined > limits_.max_replicas) {
    return ResourceExhausted("g-counter: merge would count " + std::to_string(joined) +
                             " replicas, past max_replicas " +
                             std::to_string(limits_.max_replicas));
  }
  return Status::Ok();
}

Result<GCounter> GCounter::DecodeBody(coding::Decoder& in, const Limits& limits,
                                      std::string_view type, std::string_view field) {
  GCounter counter(limits);
  TRI_ASSIGN_OR_RETURN(counter.counts_, VersionVector::DecodeBody(in, limits, type, field));
  return counter;
}

std::string GCounter::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kGCounter);
  EncodeBody(out);
  return out;
}

Result<GCounter> GCounter::Decode(std::string_view bytes, const Limits& limits) {
  constexpr std::string_view kType = "g-counter";
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kGCounter, kType));
  TRI_ASSIGN_OR_RETURN(GCounter counter, DecodeBody(in, limits, kType, "counts"));
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return counter;
}

}  // namespace tri::crdt
