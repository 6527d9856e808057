#include "crdt/dotted_version_vector.h"

#include <algorithm>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

bool DottedVersionVector::Contains(const Dot& dot) const {
  return prefix_.Contains(dot) || std::binary_search(cloud_.begin(), cloud_.end(), dot);
}

void DottedVersionVector::Add(const Dot& dot) {
  TRI_ASSERT_MSG(dot.counter >= 1, "a dot's counter starts at 1");
  const std::uint64_t contiguous = prefix_.Get(dot.replica);
  if (dot.counter <= contiguous) return;
  if (dot.counter - 1 == contiguous) {
    prefix_.Add(dot);
    // The new dot may close the gap before cloud dots of the same replica.
    if (!cloud_.empty()) Compact();
    return;
  }
  auto it = std::lower_bound(cloud_.begin(), cloud_.end(), dot);
  if (it == cloud_.end() || *it != dot) cloud_.insert(it, dot);
}

Dot DottedVersionVector::NextDot(ReplicaId replica) const {
  std::uint64_t highest = prefix_.Get(replica);
  for (const Dot& d : cloud_) {
    if (d.replica == replica) highest = std::max(highest, d.counter);
  }
  TRI_ASSERT_MSG(highest < UINT64_MAX, "dot counter overflow");
  return Dot{replica, highest + 1};
}

void DottedVersionVector::Merge(const DottedVersionVector& other) {
  prefix_.Merge(other.prefix_);
  if (other.cloud_.empty() && cloud_.empty()) return;
  std::vector<Dot> joined;
  joined.reserve(cloud_.size() + other.cloud_.size());
  std::set_union(cloud_.begin(), cloud_.end(), other.cloud_.begin(), other.cloud_.end(),
                 std::back_inserter(joined));
  cloud_ = std::move(joined);
  Compact();
}

void DottedVersionVector::Compact() {
  // The cloud is sorted by (replica, counter), so one pass folds each replica's
  // run of consecutive dots into the prefix.
  std::vector<Dot> kept;
  kept.reserve(cloud_.size());
  for (const Dot& dot : cloud_) {
    const std::uint64_t contiguous = prefix_.Get(dot.replica);
    if (dot.counter <= contiguous) continue;
    if (dot.counter - 1 == contiguous) {
      prefix_.Add(dot);
    } else {
      kept.push_back(dot);
    }
  }
  cloud_ = std::move(kept);
}

std::size_t DottedVersionVector::ReplicaCount() const {
  std::size_t count = prefix_.size();
  ReplicaId previous = 0;
  bool any = false;
  for (const Dot& d : cloud_) {
    if (any && d.replica == previous) continue;
    any = true;
    previous = d.replica;
    if (prefix_.Get(d.replica) == 0) ++count;
  }
  return count;
}

std::string DottedVersionVector::ToString() const {
  std::string out = prefix_.ToString();
  if (!cloud_.empty()) {
    out += " + [";
    for (std::size_t i = 0; i < cloud_.size(); ++i) {
      if (i > 0) out += ", ";
      out += DotToString(cloud_[i]);
    }
    out += "]";
  }
  return out;
}

void DottedVersionVector::EncodeBody(std::string& out) const {
  prefix_.EncodeBody(out);
  coding::PutVarint64(out, cloud_.size());
  for (const Dot& d : cloud_)
    PutDot(out, d);
}

Result<DottedVersionVector> DottedVersionVector::DecodeBody(coding::Decoder& in,
                                                            const Limits& limits,
                                                            std::string_view type,
                                                            std::string_view field) {
  const std::string name(field);
  DottedVersionVector dvv;
  TRI_ASSIGN_OR_RETURN(dvv.prefix_, VersionVector::DecodeBody(in, limits, type, name + ".prefix"));
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, type, name + ".cloud count", limits.max_elements, "max_elements", count));
  dvv.cloud_.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string entry = name + ".cloud[" + std::to_string(i) + "]";
    Dot dot;
    TRI_RETURN_IF_ERROR(ReadDotField(in, type, entry, dot));
    if (!dvv.cloud_.empty() && !(dvv.cloud_.back() < dot)) {
      return DecodeError(type, entry + " " + DotToString(dot) + " out of order", in);
    }
    if (dot.counter - 1 <= dvv.prefix_.Get(dot.replica)) {  // counter >= 1
      return DecodeError(type, entry + " " + DotToString(dot) + " is not past a gap in the prefix",
                         in);
    }
    dvv.cloud_.push_back(dot);
  }
  if (dvv.ReplicaCount() > limits.max_replicas) {
    return DecodeError(type,
                       name + " names " + std::to_string(dvv.ReplicaCount()) +
                           " replicas, exceeds max_replicas " + std::to_string(limits.max_replicas),
                       in);
  }
  return dvv;
}

std::string DottedVersionVector::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kDottedVersionVector);
  EncodeBody(out);
  return out;
}

Result<DottedVersionVector> DottedVersionVector::Decode(std::string_view bytes,
                                                        const Limits& limits) {
  constexpr std::string_view kType = "dotted version vector";
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kDottedVersionVector, kType));
  TRI_ASSIGN_OR_RETURN(DottedVersionVector dvv, DecodeBody(in, limits, kType, "context"));
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return dvv;
}

}  // namespace tri::crdt
