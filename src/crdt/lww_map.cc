#include "crdt/lww_map.h"

#include <tuple>

#include "crdt/encoding.h"

namespace tri::crdt {

namespace {

constexpr std::string_view kType = "lww map";

// The merge order of two writes of one key.
bool Beats(const LwwMap::Entry& a, const LwwMap::Entry& b) {
  return std::make_tuple(std::cref(a.stamp), !a.removed, std::cref(a.value)) >
         std::make_tuple(std::cref(b.stamp), !b.removed, std::cref(b.value));
}

Status TooLong(std::string_view what, std::size_t size, const Limits& limits) {
  return ResourceExhausted("lww map: " + std::string(what) + " of " + std::to_string(size) +
                           " bytes, past max_value_bytes " +
                           std::to_string(limits.max_value_bytes));
}

}  // namespace

Result<LwwMap> LwwMap::Put(std::string key, std::string value, const LwwStamp& stamp) {
  if (value.size() > limits_.max_value_bytes) return TooLong("value", value.size(), limits_);
  return Write(std::move(key), Entry{stamp, false, std::move(value)});
}

Result<LwwMap> LwwMap::Remove(std::string key, const LwwStamp& stamp) {
  return Write(std::move(key), Entry{stamp, true, {}});
}

Result<LwwMap> LwwMap::Write(std::string key, Entry entry) {
  if (key.size() > limits_.max_value_bytes) return TooLong("key", key.size(), limits_);
  if (!entries_.contains(key) && entries_.size() >= limits_.max_elements) {
    return ResourceExhausted(
        "lww map: a new key would make " + std::to_string(entries_.size() + 1) +
        " keys (tombstones included), past max_elements " + std::to_string(limits_.max_elements));
  }
  LwwMap delta(limits_);
  delta.entries_.emplace(std::move(key), std::move(entry));
  TRI_RETURN_IF_ERROR(Merge(delta));
  return delta;
}

std::optional<std::string> LwwMap::Get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.removed) return std::nullopt;
  return it->second.value;
}

std::map<std::string, std::string> LwwMap::Values() const {
  std::map<std::string, std::string> values;
  for (const auto& [key, entry] : entries_) {
    if (!entry.removed) values.emplace_hint(values.end(), key, entry.value);
  }
  return values;
}

Status LwwMap::Merge(const LwwMap& other) {
  // Check every bound first, so a refused merge changes nothing.
  std::size_t new_keys = 0;
  for (const auto& [key, entry] : other.entries_) {
    auto it = entries_.find(key);
    const bool adopted = it == entries_.end() || Beats(entry, it->second);
    if (!adopted) continue;
    if (it == entries_.end()) ++new_keys;
    if (key.size() > limits_.max_value_bytes) return TooLong("key", key.size(), limits_);
    if (entry.value.size() > limits_.max_value_bytes) {
      return TooLong("value", entry.value.size(), limits_);
    }
  }
  if (entries_.size() + new_keys > limits_.max_elements) {
    return ResourceExhausted(
        "lww map: merge would make " + std::to_string(entries_.size() + new_keys) +
        " keys (tombstones included), past max_elements " + std::to_string(limits_.max_elements));
  }
  for (const auto& [key, entry] : other.entries_) {
    auto it = entries_.lower_bound(key);
    if (it == entries_.end() || it->first != key) {
      entries_.emplace_hint(it, key, entry);
    } else if (Beats(entry, it->second)) {
      it->second = entry;
    }
  }
  return Status::Ok();
}

std::string LwwMap::ToString() const {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, entry] : entries_) {
    if (!first) out += ", ";
    first = false;
    out += "\"" + key + "\": ";
    out += entry.removed ? std::string("(removed)") : "\"" + entry.value + "\"";
    out += "@" + entry.stamp.ToString();
  }
  return out + "}";
}

std::string LwwMap::Encode() const {
  std::string out;
  PutHeader(out, TypeTag::kLwwMap);
  coding::PutVarint64(out, entries_.size());
  for (const auto& [key, entry] : entries_) {
    coding::PutLengthPrefixed(out, key);
    entry.stamp.EncodeBody(out);
    coding::PutFixed8(out, entry.removed ? 1 : 0);
    if (!entry.removed) coding::PutLengthPrefixed(out, entry.value);
  }
  return out;
}

Result<LwwMap> LwwMap::Decode(std::string_view bytes, const Limits& limits) {
  coding::Decoder in(bytes);
  TRI_RETURN_IF_ERROR(ReadHeader(in, TypeTag::kLwwMap, kType));
  std::uint64_t count = 0;
  TRI_RETURN_IF_ERROR(
      ReadCountField(in, kType, "entry count", limits.max_elements, "max_elements", count));
  LwwMap map(limits);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string field = "entries[" + std::to_string(i) + "]";
    std::string key;
    TRI_RETURN_IF_ERROR(ReadBytesField(in, kType, field + ".key", limits.max_value_bytes, key));
    if (!map.entries_.empty() && !(map.entries_.rbegin()->first < key)) {
      return DecodeError(kType, field + ".key out of order or repeated", in);
    }
    Entry entry;
    TRI_ASSIGN_OR_RETURN(entry.stamp, LwwStamp::DecodeBody(in, kType, field + ".stamp"));
    std::uint8_t kind = 0;
    if (!in.ReadFixed8(kind)) return DecodeError(kType, field + ".kind truncated", in);
    if (kind > 1) {
      return DecodeError(kType, field + ".kind " + std::to_string(kind) + " is not 0 or 1", in);
    }
    entry.removed = kind == 1;
    if (!entry.removed) {
      TRI_RETURN_IF_ERROR(
          ReadBytesField(in, kType, field + ".value", limits.max_value_bytes, entry.value));
    }
    map.entries_.emplace_hint(map.entries_.end(), std::move(key), std::move(entry));
  }
  TRI_RETURN_IF_ERROR(CheckDone(in, kType));
  return map;
}

}  // namespace tri::crdt
