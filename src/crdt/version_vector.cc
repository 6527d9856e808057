#include "crdt/version_vector.h"

#include <algorithm>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

std::string_view CausalOrderName(CausalOrder order) {
  switch (order) {
    case CausalOrder::kBefore:
      return "before";
    case CausalOrder::kAfter:
      return "after";
    case CausalOrder::kEqual:
      return "equal";
    case CausalOrder::kConcurrent:
      return "concurrent";
  }
  TRI_UNREACHABLE();
}

namespace {

// The entry of `replica`, or where it would be inserted.
template <typename Entries>
auto FindReplica(Entries& entries, ReplicaId replica) {
  return std::lower_bound(entries.begin(), entries.end(), replica,
                          [](const Dot& e, ReplicaId r) { return e.replica < r; });
}

}  // namespace

std::uint64_t VersionVector::Get(ReplicaId replica) const {
  auto it = FindReplica(entries_, replica);
  return it != entries_.end() && it->replica == replica ? it->counter : 0;
}

Dot VersionVector::Increment(ReplicaId replica) {
  auto it = FindReplica(entries_, replica);
  if (it != entries_.end() && it->replica == replica) {
    TRI_ASSERT_MSG(it->counter < UINT64_MAX, "version vector counter overflow");
    ++it->counter;
    return *it;
  }
  it = entries_.insert(it, Dot{replica, 1});
  return *it;
}

bool VersionVector::Contains(const Dot& dot) const {
  return dot.counter <= Get(dot.replica);
}

void VersionVector::Add(const Dot& dot) {
  if (dot.counter == 0) return;
  auto it = FindReplica(entries_, dot.replica);
  if (it != entries_.end() && it->replica == dot.replica) {
    it->counter = std::max(it->counter, dot.counter);
  } else {
    entries_.insert(it, dot);
  }
}

void VersionVector::Merge(const VersionVector& other) {
  if (other.entries_.empty()) return;
  if (entries_.empty()) {
    entries_ = other.entries_;
    return;
  }
  std::vector<Dot> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->replica < b->replica)) {
      merged.push_back(*a++);
    } else if (a == entries_.end() || b->replica < a->replica) {
      merged.push_back(*b++);
    } else {
      merged.push_back(Dot{a->replica, std::max(a->counter, b->counter)});
      ++a;
      ++b;
    }
  }
  entries_ = std::move(merged);
}

std::size_t VersionVector::MergedSize(const VersionVector& other) const {
  std::size_t size = entries_.size() + other.entries_.size();
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() && b != other.entries_.end()) {
    if (a->replica < b->replica) {
      ++a;
    } else if (b->replica < a->replica) {
      ++b;
    } else {
      --size;  // one entry for both
      ++a;
      ++b;
    }
  }
  return size;
}

CausalOrder VersionVector::Compare(const VersionVector& other) const {
  bool this_ahead = false;   // some entry of this exceeds other's
  bool other_ahead = false;  // some entry of other exceeds this one's
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->replica < b->replica)) {
      this_ahead = true;
      ++a;
    } else if (a == entries_.end() || b->replica < a->replica) {
      other_ahead = true;
      ++b;
    } else {
      if (a->counter > b->counter) this_ahead = true;
      if (b->counter > a->counter) other_ahead = true;
      ++a;
      ++b;
    }
    if (this_ahead && other_ahead) return CausalOrder::kConcurrent;
  }
  if (this_ahead) return CausalOrder::kAfter;
  if (other_ahead) return CausalOrder::kBefore;
  return CausalOrder::kEqual;
}

bool VersionVector::Descends(const VersionVector& other) const {
  const CausalOrder order = Compare(other);
  return order == CausalOrder::kAfter || order == CausalOrder::kEqual;
}

std::string VersionVector::ToString() const {
  std::string out = "{";
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) out += ", ";
    out += DotToString(entries_[i]);
  }
  out += "}";
  return out;
}

void VersionVector::EncodeBody(std::string& out) const {
  coding::PutVarint64(out, entries_.size());
  ReplicaId previous = 0;
  for (const Dot& entry : entries_) {
    coding::PutVarint64(out, entry.replica - previous);
    coding::PutVarint64(out, entry.counter);
    previous = entry.replica;
  }
}

Result<VersionVector> VersionVector::DecodeBody(coding::Decoder& in, const Limits& limits,
                                                std::string_view type, std::string_view field) {
  const std::string name(field);
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, type, name + " entry count", limits.max_replicas, "max_replicas", count));
  VersionVector vv;
  vv.entries_.reserve(count);
  ReplicaId previous = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string entry = name + "[" + std::to_string(i) + "]";
    std::uint64_t gap = 0;
    std::uint64_t counter = 0;
    TRI_RETURN_IF_ERROR(ReadVarintField(in, type, entry + ".replica", gap));
    if (i > 0 && gap == 0) {
      return DecodeError(type, entry + ".replica repeats replica " + std::to_string(previous), in);
    }
    if (gap > UINT64_MAX - previous) {
      return DecodeError(type, entry + ".replica overflows 64 bits", in);
    }
    TRI_RETURN_IF_ERROR(ReadVarintField(in, type, entry + ".counter", counter));
    if (counter == 0) return DecodeError(type, entry + ".counter is 0", in);
    previous += gap;
    vv.entries_.push_back(Dot{previous, counter});
  }
  return vv;
}

std::string VersionVector::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kVersionVector);
  EncodeBody(out);
  return out;
}

Result<VersionVector> VersionVector::Decode(std::string_view bytes, const Limits& limits) {
  constexpr std::string_view kType = "version vector";
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kVersionVector, kType));
  TRI_ASSIGN_OR_RETURN(VersionVector vv, DecodeBody(in, limits, kType, "entries"));
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return vv;
}

}  // namespace tri::crdt
