#pragma once

// RapidCheck generators of KV requests over a small key space, so that random
// sequences collide on keys, revisions and ranges often. Used inside RapidCheck
// properties (each `*gen` draw shrinks).

#include <rapidcheck.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rsm/kv_types.h"

namespace tri::rsm::testing {

// A value drawn uniformly from [low, high) whatever the test's size (RapidCheck's
// inRange scales with size, which would make early cases trivial); it shrinks
// towards `low`.
template <typename T>
T Uniform(T low, T high) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(low, high));
}

inline const std::vector<std::string>& RandomKeys() {
  static const std::vector<std::string> keys = {"a", "b", "ba", "c", "d", "e"};
  return keys;
}

inline std::string GenKey() {
  return *rc::gen::elementOf(RandomKeys());
}

inline std::string GenValue() {
  return *rc::gen::elementOf(std::vector<std::string>{"", "x", "y", "zz", std::string(1, '\0')});
}

// "" (one key), "\0" (to the end), or a bound that may be before, at or after key.
inline std::string GenRangeEnd() {
  return *rc::gen::elementOf(
      std::vector<std::string>{"", "", std::string(1, '\0'), "b", "bb", "c", "e", "z"});
}

// Where the store's history stands, so generated revisions hit its edges.
struct Revisions {
  std::int64_t current = 1;
  std::int64_t compacted = 0;
};

// A revision for reads and compaction: 0 (current), an edge of the kept history
// (the compact revision, one below it, current, one above it), or any nearby one.
inline std::int64_t GenRevision(Revisions at) {
  switch (Uniform<int>(0, 8)) {
    case 0:
      return 0;
    case 1:
      return at.compacted;
    case 2:
      return at.compacted - 1;
    case 3:
      return at.current;
    case 4:
      return at.current + 1;
    case 5:
      return Uniform<std::int64_t>(at.compacted + 1, at.current + 1);
    default:
      return Uniform<std::int64_t>(-1, at.current + 2);
  }
}

inline RangeRequest GenRange(Revisions at, bool historical) {
  const std::int64_t current = at.current;
  RangeRequest r;
  r.key = GenKey();
  r.range_end = GenRangeEnd();
  r.revision = historical ? GenRevision(at) : 0;
  r.limit = Uniform<std::int64_t>(0, 4);
  r.sort_order = static_cast<RangeRequest::SortOrder>(Uniform<int>(0, 3));
  r.sort_target = static_cast<RangeRequest::SortTarget>(Uniform<int>(0, 5));
  r.keys_only = Uniform<int>(0, 4) == 0;
  r.count_only = Uniform<int>(0, 6) == 0;
  if (Uniform<int>(0, 4) == 0) r.min_mod_revision = Uniform<std::int64_t>(0, current + 1);
  if (Uniform<int>(0, 4) == 0) r.max_mod_revision = Uniform<std::int64_t>(0, current + 1);
  if (Uniform<int>(0, 4) == 0) {
    r.min_create_revision = Uniform<std::int64_t>(0, current + 1);
  }
  if (Uniform<int>(0, 4) == 0) {
    r.max_create_revision = Uniform<std::int64_t>(0, current + 1);
  }
  return r;
}

inline PutRequest GenPut(const std::string& key) {
  PutRequest r;
  r.key = key;
  r.value = GenValue();
  r.prev_kv = Uniform<int>(0, 2) == 0;
  if (Uniform<int>(0, 8) == 0) {
    r.ignore_value = true;
    r.value.clear();
  }
  return r;
}

inline DeleteRangeRequest GenDelete(const std::string& key, bool single_key) {
  DeleteRangeRequest r;
  r.key = key;
  r.range_end = single_key ? "" : GenRangeEnd();
  r.prev_kv = Uniform<int>(0, 2) == 0;
  return r;
}

inline Compare GenCompare(std::int64_t current) {
  Compare c;
  c.key = GenKey();
  if (Uniform<int>(0, 5) == 0) c.range_end = GenRangeEnd();
  c.result = static_cast<Compare::CompareResult>(Uniform<int>(0, 4));
  c.target = static_cast<Compare::CompareTarget>(Uniform<int>(0, 5));
  c.lease = Uniform<std::int64_t>(0, 2);  // keys never have a lease
  c.version = Uniform<std::int64_t>(0, 4);
  c.create_revision = Uniform<std::int64_t>(0, current + 1);
  c.mod_revision = Uniform<std::int64_t>(0, current + 1);
  c.value = GenValue();
  return c;
}

inline TxnRequest GenTxnFrom(std::int64_t current, const std::vector<std::string>& keys, int depth);

// Takes a random key out of `keys`.
inline std::string TakeKey(std::vector<std::string>& keys) {
  const std::size_t at = Uniform<std::size_t>(0, keys.size());
  std::string key = keys[at];
  keys.erase(keys.begin() + static_cast<std::ptrdiff_t>(at));
  return key;
}

// A branch that writes each key at most once (so the txn is valid): every op
// takes its own keys out of `keys`; writes are puts or single-key deletes; a
// nested txn (up to `depth` levels) gets a share of the keys for both its
// branches, which exclude each other.
inline std::vector<RequestOp> GenBranch(std::int64_t current, std::vector<std::string> keys,
                                        int depth) {
  const int n = Uniform<int>(0, 4);
  std::vector<RequestOp> ops;
  for (int i = 0; i < n && !keys.empty(); ++i) {
    switch (Uniform<int>(0, depth > 0 ? 4 : 3)) {
      case 0:
        ops.push_back(RequestOp{GenPut(TakeKey(keys))});
        break;
      case 1:
        ops.push_back(RequestOp{GenDelete(TakeKey(keys), true)});
        break;
      case 2: {
        RangeRequest range = GenRange(Revisions{current, 0}, false);
        range.key = TakeKey(keys);
        ops.push_back(RequestOp{range});
        break;
      }
      default: {
        std::vector<std::string> share;
        const int take = Uniform<int>(1, 3);
        for (int k = 0; k < take && !keys.empty(); ++k)
          share.push_back(TakeKey(keys));
        ops.push_back(RequestOp{GenTxnFrom(current, share, depth - 1)});
      }
    }
  }
  return ops;
}

inline TxnRequest GenTxnFrom(std::int64_t current, const std::vector<std::string>& keys,
                             int depth) {
  TxnRequest t;
  const int compares = Uniform<int>(0, 3);
  for (int i = 0; i < compares; ++i)
    t.compare.push_back(GenCompare(current));
  t.success = GenBranch(current, keys, depth);
  t.failure = GenBranch(current, keys, depth);
  return t;
}

inline TxnRequest GenTxn(std::int64_t current) {
  return GenTxnFrom(current, RandomKeys(), 2);
}

// Any request, valid or not (ignore_value on a missing key, bad revisions, ...).
inline KvRequest GenRequest(Revisions at) {
  const std::int64_t current = at.current;
  switch (Uniform<int>(0, 10)) {
    case 0:
    case 1:
    case 2:
      return GenPut(GenKey());
    case 3:
      return GenDelete(GenKey(), false);
    case 4:
    case 5:
      return GenTxn(current);
    case 6:
    case 7:
    case 8:
      return GenRange(at, true);
    default:
      return CompactionRequest{GenRevision(at), false};
  }
}

}  // namespace tri::rsm::testing
