#include "crdt/mv_register.h"

#include <algorithm>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

namespace {
constexpr std::string_view kType = "mv register";

Status ValueTooLong(std::size_t size, const Limits& limits) {
  return ResourceExhausted("mv register: value of " + std::to_string(size) +
                           " bytes, past max_value_bytes " +
                           std::to_string(limits.max_value_bytes));
}
}  // namespace

Result<MvRegister> MvRegister::Write(ReplicaId replica, std::string value) {
  if (value.size() > limits_.max_value_bytes) return ValueTooLong(value.size(), limits_);
  const Dot dot = context_.NextDot(replica);
  if (dot.counter == 1 && context_.ReplicaCount() >= limits_.max_replicas) {
    return ResourceExhausted("mv register: replica " + std::to_string(replica) +
                             " would be replica " + std::to_string(context_.ReplicaCount() + 1) +
                             ", past max_replicas " + std::to_string(limits_.max_replicas));
  }
  // The delta's context is everything this replica has seen, not only the dots it
  // replaces: a replica receiving it then drops every value the writer had seen,
  // even one whose own delta arrives later (deltas are causally self-contained).
  MvRegister delta(limits_);
  delta.context_ = context_;
  delta.context_.Add(dot);
  delta.entries_.push_back(Entry{dot, std::move(value)});
  // The delta's context contains this state's: the merge leaves the new value alone.
  entries_ = delta.entries_;
  context_.Add(dot);
  TRI_ASSERT(context_ == delta.context_);
  return delta;
}

std::vector<std::string> MvRegister::Values() const {
  std::vector<std::string> values;
  values.reserve(entries_.size());
  for (const Entry& entry : entries_)
    values.push_back(entry.value);
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

Status MvRegister::Merge(const MvRegister& other) {
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->dot < b->dot)) {
      if (!other.context_.Contains(a->dot)) merged.push_back(*a);
      ++a;
    } else if (a == entries_.end() || b->dot < a->dot) {
      if (!context_.Contains(b->dot)) {
        if (b->value.size() > limits_.max_value_bytes) {
          return ValueTooLong(b->value.size(), limits_);
        }
        merged.push_back(*b);
      }
      ++b;
    } else {
      // One dot names one write, so both sides hold the same value.
      TRI_DASSERT(a->value == b->value);
      merged.push_back(*a);
      ++a;
      ++b;
    }
  }
  if (merged.size() > limits_.max_elements) {
    return ResourceExhausted("mv register: merge would keep " + std::to_string(merged.size()) +
                             " siblings, past max_elements " +
                             std::to_string(limits_.max_elements));
  }
  DottedVersionVector context = context_;
  context.Merge(other.context_);
  if (context.ReplicaCount() > limits_.max_replicas) {
    return ResourceExhausted(
        "mv register: merge would name " + std::to_string(context.ReplicaCount()) +
        " replicas in the context, past max_replicas " + std::to_string(limits_.max_replicas));
  }
  entries_ = std::move(merged);
  context_ = std::move(context);
  return Status::Ok();
}

std::string MvRegister::ToString() const {
  std::string out = "[";
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) out += ", ";
    out += "\"" + entries_[i].value + "\"@" + DotToString(entries_[i].dot);
  }
  return out + "] ctx " + context_.ToString();
}

std::string MvRegister::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kMvRegister);
  context_.EncodeBody(out);
  coding::PutVarint64(out, entries_.size());
  for (const Entry& entry : entries_) {
    PutDot(out, entry.dot);
    coding::PutLengthPrefixed(out, entry.value);
  }
  return out;
}

Result<MvRegister> MvRegister::Decode(std::string_view bytes, const Limits& limits) {
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kMvRegister, kType));
  MvRegister reg(limits);
  TRI_ASSIGN_OR_RETURN(reg.context_, DottedVersionVector::DecodeBody(in, limits, kType, "context"));
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, kType, "entry count", limits.max_elements, "max_elements", count));
  reg.entries_.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string field = "entries[" + std::to_string(i) + "]";
    Entry entry;
    TRI_RETURN_IF_ERROR(ReadDotField(in, kType, field + ".dot", entry.dot));
    if (!reg.entries_.empty() && !(reg.entries_.back().dot < entry.dot)) {
      return DecodeError(kType, field + ".dot " + DotToString(entry.dot) + " out of order", in);
    }
    if (!reg.context_.Contains(entry.dot)) {
      return DecodeError(kType, field + ".dot " + DotToString(entry.dot) + " not in the context",
                         in);
    }
    TRI_RETURN_IF_ERROR(
        ReadBytesField(in, kType, field + ".value", limits.max_value_bytes, entry.value));
    reg.entries_.push_back(std::move(entry));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return reg;
}

}  // namespace tri::crdt
