#pragma once

// LWW map: a map from byte-string keys to byte-string values where each key is
// its own LWW register (docs/crdt.md, "LWW map"). A put or a remove of a key is
// a write stamped with an LwwStamp; per key the largest stamp wins, a remove
// leaving a tombstone (the key's stamp with no value) so that a put older than
// the remove, arriving late, still loses. Tombstones stay: dropping one safely
// needs every replica to have seen it (causal stability), which this pure type
// cannot know; they count against max_elements.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/status.h"
#include "crdt/limits.h"
#include "crdt/lww_stamp.h"

namespace tri::crdt {

class LwwMap {
 public:
  struct Entry {
    LwwStamp stamp;
    bool removed = false;  // a tombstone: the key is absent as of `stamp`
    std::string value;     // empty for a tombstone
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  LwwMap() = default;
  explicit LwwMap(Limits limits) : limits_(limits) {}

  // Delta mutators: a write of one key stamped `stamp` (the writer's HLC Now and
  // replica id). The delta is a map holding that key's write alone, merged here; a
  // stamp not above the key's current one loses. Refuse (ResourceExhausted) a key
  // or value past max_value_bytes and a new key past max_elements; nothing
  // changes then.
  Result<LwwMap> Put(std::string key, std::string value, const LwwStamp& stamp);
  Result<LwwMap> Remove(std::string key, const LwwStamp& stamp);

  // The live value of `key`, if any.
  std::optional<std::string> Get(std::string_view key) const;
  // Live keys and values, ordered by key.
  std::map<std::string, std::string> Values() const;
  // Every key with its winning write, tombstones included.
  const std::map<std::string, Entry, std::less<>>& entries() const { return entries_; }

  // Per key, the larger write: by stamp, then (for equal stamps, only when a
  // replica reused one) a value over a tombstone, then the larger value bytes.
  // ResourceExhausted if the result would pass max_elements keys, or adopt a key
  // or value past max_value_bytes; nothing changes then.
  Status Merge(const LwwMap& other);

  const Limits& limits() const { return limits_; }
  std::string ToString() const;

  // Header (TypeTag::kLwwMap), a varint entry count, then per entry in key order:
  // the length-prefixed key, the stamp (timestamp varints, replica varint), a kind
  // byte (0 value, 1 tombstone) and, for a value, the length-prefixed value.
  std::string Encode() const;
  static Result<LwwMap> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal entries (the limits are configuration, not state).
  friend bool operator==(const LwwMap& a, const LwwMap& b) { return a.entries_ == b.entries_; }

 private:
  Result<LwwMap> Write(std::string key, Entry entry);

  Limits limits_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace tri::crdt
