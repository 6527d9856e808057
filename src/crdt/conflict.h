#pragma once

// Conflict strategies over vector clocks (docs/crdt.md, "Conflict strategies"):
// the reference design's rules for a key-value store that versions each write
// with a vector clock rather than a CRDT. When a version arrives for a key, a
// version whose clock it descends is replaced, a version whose clock descends it
// makes it stale; what remains is concurrent, and the key's strategy decides:
//
// - last-writer-wins: keep the value with the largest LwwStamp (HLC timestamp,
//   then replica id);
// - merge function: combine the values with a user function, which must be
//   commutative (it is applied in a fixed order, so a non-commutative function is
//   still deterministic, but then the result depends on that order);
// - application callback: keep every concurrent value as a sibling until the
//   application reads them and writes a resolution (ResolveSiblings);
// - reject: refuse the write with an error naming the key and both clocks.
//
// A resolved version's clock is the join of the clocks it resolves, so it
// descends them all. The same versions, meeting in any order at any replica,
// resolve to the same result when the writers keep two contracts (the property
// test ConflictProperty.AnyArrivalOrderResolvesToTheSameVersions checks both):
// - stamps respect causality: a version's stamp exceeds the stamps of every
//   version its clock descends (writers take stamps from an HLC that has Updated
//   with every version they read; crdt/hlc.h);
// - for the merge function, the function is a semilattice join (commutative,
//   associative, idempotent) and a writer's value includes, under it, the values
//   it read. Otherwise the result may depend on arrival order.
// The callback keeps exactly the maximal versions, which needs neither. A pure
// API: no state beyond its arguments.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "crdt/hlc.h"
#include "crdt/lww_stamp.h"
#include "crdt/replica.h"
#include "crdt/version_vector.h"

namespace tri::crdt {

// One version of a key's value.
struct Version {
  VectorClock clock;  // the writes this version has seen, its own included
  LwwStamp stamp;     // when and where it was written (last-writer-wins order)
  std::string value;
  friend bool operator==(const Version&, const Version&) = default;
};

enum class ConflictStrategy : std::uint8_t {
  kLastWriterWins,
  kMergeFunction,
  kApplicationCallback,
  kReject,
};

std::string_view ConflictStrategyName(ConflictStrategy strategy);

// Combines two concurrent values. Must be commutative; associativity makes the
// result independent of how many siblings meet at once.
using MergeFunction = std::function<std::string(std::string_view a, std::string_view b)>;

struct ConflictPolicy {
  ConflictStrategy strategy = ConflictStrategy::kLastWriterWins;
  MergeFunction merge;  // required by kMergeFunction, unused by the others
  // kApplicationCallback: the most siblings one key may hold. Past it, Resolve
  // refuses the incoming version (ResourceExhausted) until the application
  // resolves the siblings.
  std::size_t max_siblings = 1024;
};

// The versions of `key` once `incoming` arrives at a replica holding `current`
// (the key's versions, mutually concurrent; empty for a new key). Returns one
// version, or under kApplicationCallback every concurrent one as siblings in
// stamp order. Errors: kReject and a concurrent version, Aborted naming the key
// and both clocks; kMergeFunction without a function, InvalidArgument;
// kApplicationCallback past max_siblings, ResourceExhausted.
Result<std::vector<Version>> Resolve(std::string_view key, const std::vector<Version>& current,
                                     const Version& incoming, const ConflictPolicy& policy);

// The application's resolution of siblings: `value`, written by `replica` at
// `stamp.timestamp`, with a clock that descends every sibling's (their join plus
// one event of `replica`), so it replaces them all wherever it arrives.
Version ResolveSiblings(const std::vector<Version>& siblings, std::string value,
                        const LwwStamp& stamp);

}  // namespace tri::crdt
