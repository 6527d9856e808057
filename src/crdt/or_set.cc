#include "crdt/or_set.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "crdt/encoding.h"

namespace tri::crdt {

namespace {

constexpr std::string_view kType = "or-set";

Status TooMany(std::string_view what, std::size_t count, std::string_view limit_name,
               std::uint64_t limit) {
  return ResourceExhausted("crdt or-set: " + std::string(what) + " " + std::to_string(count) +
                           " exceeds " + std::string(limit_name) + " " + std::to_string(limit));
}

// The surviving dots of one element (both lists sorted): a dot both sides hold
// survives; a dot one side holds survives unless the other side has seen it (and
// so removed or replaced it).
std::vector<Dot> JoinDots(const std::vector<Dot>& mine, const DottedVersionVector& my_context,
                          const std::vector<Dot>& theirs,
                          const DottedVersionVector& their_context) {
  std::vector<Dot> out;
  auto a = mine.begin();
  auto b = theirs.begin();
  while (a != mine.end() || b != theirs.end()) {
    if (b == theirs.end() || (a != mine.end() && *a < *b)) {
      if (!their_context.Contains(*a)) out.push_back(*a);
      ++a;
    } else if (a == mine.end() || *b < *a) {
      if (!my_context.Contains(*b)) out.push_back(*b);
      ++b;
    } else {
      out.push_back(*a);
      ++a;
      ++b;
    }
  }
  return out;
}

std::vector<Dot> SurvivingDots(const std::vector<Dot>& dots, const DottedVersionVector& seen) {
  std::vector<Dot> out;
  for (const Dot& d : dots) {
    if (!seen.Contains(d)) out.push_back(d);
  }
  return out;
}

std::string DotsToString(const std::vector<Dot>& dots) {
  std::string out = "[";
  for (std::size_t i = 0; i < dots.size(); ++i) {
    if (i > 0) out += ", ";
    out += DotToString(dots[i]);
  }
  return out + "]";
}

}  // namespace

std::vector<OrSet::Entry>::iterator OrSet::Find(std::string_view element) {
  return std::lower_bound(entries_.begin(), entries_.end(), element,
                          [](const Entry& e, std::string_view x) { return e.element < x; });
}

std::vector<OrSet::Entry>::const_iterator OrSet::Find(std::string_view element) const {
  return std::lower_bound(entries_.begin(), entries_.end(), element,
                          [](const Entry& e, std::string_view x) { return e.element < x; });
}

Result<OrSet> OrSet::FromParts(std::vector<Entry> entries, DottedVersionVector context,
                               const Limits& limits) {
  auto invalid = [](const std::string& what) { return InvalidArgument("crdt or-set: " + what); };
  if (entries.size() > limits.max_elements) {
    return invalid("entry count " + std::to_string(entries.size()) + " exceeds max_elements " +
                   std::to_string(limits.max_elements));
  }
  if (context.ReplicaCount() > limits.max_replicas) {
    return invalid("context names " + std::to_string(context.ReplicaCount()) +
                   " replicas, exceeds max_replicas " + std::to_string(limits.max_replicas));
  }
  std::vector<Dot> all_dots;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    const std::string name = "entries[" + std::to_string(i) + "]";
    if (entry.element.size() > limits.max_value_bytes) {
      return invalid(name + " element of " + std::to_string(entry.element.size()) +
                     " bytes exceeds max_value_bytes " + std::to_string(limits.max_value_bytes));
    }
    if (i > 0 && !(entries[i - 1].element < entry.element)) {
      return invalid(name + " not after entries[" + std::to_string(i - 1) +
                     "] (elements are sorted and distinct)");
    }
    if (entry.dots.empty()) return invalid(name + " has no dots");
    for (std::size_t j = 0; j < entry.dots.size(); ++j) {
      const Dot& dot = entry.dots[j];
      const std::string dot_name = name + ".dots[" + std::to_string(j) + "] " + DotToString(dot);
      if (dot.counter == 0) return invalid(dot_name + " has counter 0");
      if (j > 0 && !(entry.dots[j - 1] < dot)) {
        return invalid(dot_name + " not after the previous dot (dots are sorted and distinct)");
      }
      if (!context.Contains(dot)) return invalid(dot_name + " is not in the context");
      all_dots.push_back(dot);
    }
  }
  std::sort(all_dots.begin(), all_dots.end());
  auto repeated = std::adjacent_find(all_dots.begin(), all_dots.end());
  if (repeated != all_dots.end()) {
    return invalid("dot " + DotToString(*repeated) + " tags two entries");
  }
  OrSet set(limits);
  set.entries_ = std::move(entries);
  set.context_ = std::move(context);
  return set;
}

Result<OrSet> OrSet::Add(ReplicaId replica, std::string_view element) {
  if (element.size() > limits_.max_value_bytes) {
    return InvalidArgument("crdt or-set: element of " + std::to_string(element.size()) +
                           " bytes exceeds max_value_bytes " +
                           std::to_string(limits_.max_value_bytes));
  }
  auto it = Find(element);
  const bool present = it != entries_.end() && it->element == element;
  if (!present && entries_.size() >= limits_.max_elements) {
    return TooMany("element count", entries_.size() + 1, "max_elements", limits_.max_elements);
  }
  if (context_.prefix().Get(replica) == 0 && context_.ReplicaCount() + 1 > limits_.max_replicas) {
    // ReplicaCount also counts cloud-only replicas; recheck after the cheap test.
    DottedVersionVector probe = context_;
    probe.Add(Dot{replica, 1});
    if (probe.ReplicaCount() > limits_.max_replicas) {
      return TooMany("replica count", probe.ReplicaCount(), "max_replicas", limits_.max_replicas);
    }
  }
  const Dot dot = context_.NextDot(replica);
  context_.Add(dot);
  OrSet delta(limits_);
  delta.context_.Add(dot);
  if (present) {
    for (const Dot& old : it->dots)
      delta.context_.Add(old);
    it->dots.assign(1, dot);
  } else {
    entries_.insert(it, Entry{std::string(element), {dot}});
  }
  delta.entries_.push_back(Entry{std::string(element), {dot}});
  return delta;
}

OrSet OrSet::Remove(std::string_view element) {
  OrSet delta(limits_);
  auto it = Find(element);
  if (it == entries_.end() || it->element != element) return delta;
  for (const Dot& old : it->dots)
    delta.context_.Add(old);
  entries_.erase(it);
  return delta;
}

bool OrSet::Contains(std::string_view element) const {
  auto it = Find(element);
  return it != entries_.end() && it->element == element;
}

std::vector<std::string> OrSet::Elements() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_)
    out.push_back(e.element);
  return out;
}

Status OrSet::Merge(const OrSet& other) {
  if (other.context_.empty()) {
    TRI_ASSERT(other.entries_.empty());  // every dot of an entry is in the context
    return Status::Ok();
  }
  // First the surviving dots of every element, then the bounds, then the new
  // entries: a refused merge leaves this state as it was.
  struct Joined {
    Entry* mine;          // null if only the other side has the element
    const Entry* theirs;  // null if only this side has it
    std::vector<Dot> dots;
  };
  std::vector<Joined> joined;
  joined.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->element < b->element)) {
      std::vector<Dot> dots = SurvivingDots(a->dots, other.context_);
      if (!dots.empty()) joined.push_back({&*a, nullptr, std::move(dots)});
      ++a;
    } else if (a == entries_.end() || b->element < a->element) {
      std::vector<Dot> dots = SurvivingDots(b->dots, context_);
      if (!dots.empty()) joined.push_back({nullptr, &*b, std::move(dots)});
      ++b;
    } else {
      std::vector<Dot> dots = JoinDots(a->dots, context_, b->dots, other.context_);
      if (!dots.empty()) joined.push_back({&*a, &*b, std::move(dots)});
      ++a;
      ++b;
    }
  }
  DottedVersionVector context = context_;
  context.Merge(other.context_);
  if (joined.size() > limits_.max_elements) {
    return TooMany("element count", joined.size(), "max_elements", limits_.max_elements);
  }
  if (context.ReplicaCount() > limits_.max_replicas) {
    return TooMany("replica count", context.ReplicaCount(), "max_replicas", limits_.max_replicas);
  }
  std::vector<Entry> entries;
  entries.reserve(joined.size());
  for (Joined& j : joined) {
    entries.push_back(Entry{j.mine != nullptr ? std::move(j.mine->element) : j.theirs->element,
                            std::move(j.dots)});
  }
  entries_ = std::move(entries);
  context_ = std::move(context);
  return Status::Ok();
}

std::string OrSet::ToString() const {
  std::string out = "{";
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (i > 0) out += ", ";
    out += entries_[i].element + ": " + DotsToString(entries_[i].dots);
  }
  return out + "} seen " + context_.ToString();
}

std::string OrSet::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kOrSet);
  context_.EncodeBody(out);
  coding::PutVarint64(out, entries_.size());
  for (const Entry& e : entries_) {
    coding::PutLengthPrefixed(out, e.element);
    coding::PutVarint64(out, e.dots.size());
    for (const Dot& d : e.dots)
      PutDot(out, d);
  }
  return out;
}

Result<OrSet> OrSet::Decode(std::string_view bytes, const Limits& limits) {
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kOrSet, kType));
  TRI_ASSIGN_OR_RETURN(DottedVersionVector context,
                       DottedVersionVector::DecodeBody(in, limits, kType, "context"));
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, kType, "entry count", limits.max_elements, "max_elements", count));
  std::vector<Entry> entries;
  entries.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string name = "entries[" + std::to_string(i) + "]";
    Entry entry;
    TRI_RETURN_IF_ERROR(
        ReadBytesField(in, kType, name + ".element", limits.max_value_bytes, entry.element));
    std::uint64_t dots = 0;
    TRI_RETURN_IF_ERROR(
        ReadCountField(in, kType, name + ".dot count", limits.max_replicas, "max_replicas", dots));
    entry.dots.resize(dots);
    for (std::uint64_t j = 0; j < dots; ++j) {
      TRI_RETURN_IF_ERROR(
          ReadDotField(in, kType, name + ".dots[" + std::to_string(j) + "]", entry.dots[j]));
    }
    entries.push_back(std::move(entry));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return FromParts(std::move(entries), std::move(context), limits);
}

}  // namespace tri::crdt
