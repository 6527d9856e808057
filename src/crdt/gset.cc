#include "crdt/gset.h"

#include <algorithm>
#include <iterator>

#include "crdt/encoding.h"

namespace tri::crdt {

namespace {
constexpr std::string_view kType = "g-set";
}  // namespace

Result<GSet> GSet::Add(std::string_view element) {
  if (element.size() > limits_.max_value_bytes) {
    return InvalidArgument("crdt g-set: element of " + std::to_string(element.size()) +
                           " bytes exceeds max_value_bytes " +
                           std::to_string(limits_.max_value_bytes));
  }
  auto it = std::lower_bound(elements_.begin(), elements_.end(), element);
  if (it == elements_.end() || *it != element) {
    if (elements_.size() >= limits_.max_elements) {
      return ResourceExhausted("crdt g-set: adding an element would exceed max_elements " +
                               std::to_string(limits_.max_elements));
    }
    elements_.insert(it, std::string(element));
  }
  GSet delta(limits_);
  delta.elements_.emplace_back(element);
  return delta;
}

bool GSet::Contains(std::string_view element) const {
  return std::binary_search(elements_.begin(), elements_.end(), element);
}

Status GSet::Merge(const GSet& other) {
  if (other.elements_.empty()) return Status::Ok();
  std::vector<std::string> joined;
  joined.reserve(elements_.size() + other.elements_.size());
  std::set_union(elements_.begin(), elements_.end(), other.elements_.begin(), other.elements_.end(),
                 std::back_inserter(joined));
  if (joined.size() > limits_.max_elements) {
    return ResourceExhausted("crdt g-set: merge would hold " + std::to_string(joined.size()) +
                             " elements, exceeds max_elements " +
                             std::to_string(limits_.max_elements));
  }
  elements_ = std::move(joined);
  return Status::Ok();
}

std::string GSet::ToString() const {
  std::string out = "{";
  for (std::size_t i = 0; i < elements_.size(); ++i) {
    if (i > 0) out += ", ";
    out += elements_[i];
  }
  return out + "}";
}

std::string GSet::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kGSet);
  coding::PutVarint64(out, elements_.size());
  for (const std::string& e : elements_)
    coding::PutLengthPrefixed(out, e);
  return out;
}

Result<GSet> GSet::Decode(std::string_view bytes, const Limits& limits) {
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kGSet, kType));
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, kType, "element count", limits.max_elements, "max_elements", count));
  GSet set(limits);
  set.elements_.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string field = "elements[" + std::to_string(i) + "]";
    std::string element;
    TRI_RETURN_IF_ERROR(ReadBytesField(in, kType, field, limits.max_value_bytes, element));
    if (!set.elements_.empty() && !(set.elements_.back() < element)) {
      return DecodeError(kType,
                         field + " not after elements[" + std::to_string(i - 1) +
                             "] (elements are sorted and distinct)",
                         in);
    }
    set.elements_.push_back(std::move(element));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return set;
}

}  // namespace tri::crdt
