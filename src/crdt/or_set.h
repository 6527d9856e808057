#pragma once

// OrSet: the add-wins observed-remove set without tombstones, ORSWOT (docs/crdt.md,
// "OR-Set"; Bieniusa et al., "An optimized conflict-free replicated set", 2012;
// riak_dt's orswot), with the delta mutators of Almeida, Shoker and Baquero,
// "Delta State Replicated Data Types" (2018), add-wins set.
//
// State: a causal context (the dots, i.e. events, this state has seen: a
// DottedVersionVector, which keeps gaps) and, per present element, the dots of
// the adds that made it present and that no seen event has removed. Removed
// elements leave nothing behind but their dots in the context.
//
// Join: an element's dot survives if both sides have it, or one side has it and
// the other's context has not seen it (the other has not seen the add, so it
// cannot have removed it); contexts join by union. Commutative, associative,
// idempotent.
//
// Deltas are OrSet values. add(e) at replica r: a new dot d = (r, next); the
// delta is {e: [d]} with context {d} + e's current dots (the add replaces the
// adds of e this replica has seen). remove(e): the delta is {} with context e's
// current dots. Because the context keeps gaps, a delta is self-contained: it may
// be merged in any order, any number of times, and after the deltas it follows
// were lost; a lost delta is made good by any later full-state merge. No causal
// delivery is needed (the convergence property, tests/crdt/or_set_test.cc,
// checks exactly this with drops, duplicates and reordering).
//
// Add-wins: after every event is delivered, e is present iff some add(e) was not
// seen by the replica of any remove(e) (or of a later add(e), which replaced it).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "crdt/dotted_version_vector.h"
#include "crdt/limits.h"
#include "crdt/replica.h"

namespace tri::crdt {

class OrSet {
 public:
  struct Entry {
    std::string element;
    std::vector<Dot> dots;  // sorted, distinct, non-empty; every one in the context

    friend bool operator==(const Entry&, const Entry&) = default;
  };

  explicit OrSet(Limits limits = {}) : limits_(limits) {}

  // A state from its parts, checked: entries sorted by element and distinct, each
  // with sorted distinct dots, every dot in `context`, no dot in two entries, and
  // the limits. InvalidArgument naming the entry and dot otherwise.
  static Result<OrSet> FromParts(std::vector<Entry> entries, DottedVersionVector context,
                                 const Limits& limits = {});

  // The delta mutators. Each applies its change here and returns the delta, to be
  // merged (Merge) at the other replicas.
  //
  // add(element) at `replica`, the replica that owns this state. InvalidArgument
  // if the element is longer than max_value_bytes; ResourceExhausted if a new
  // element would pass max_elements or a new replica max_replicas.
  Result<OrSet> Add(ReplicaId replica, std::string_view element);
  // remove(element): removes the adds of `element` this state has seen. Removing
  // an absent element changes nothing and returns an empty delta.
  OrSet Remove(std::string_view element);

  bool Contains(std::string_view element) const;
  // The present elements, sorted.
  std::vector<std::string> Elements() const;

  // Join with a state or a delta. ResourceExhausted if the result would pass
  // max_elements or max_replicas; the state is then unchanged.
  Status Merge(const OrSet& other);

  const std::vector<Entry>& entries() const { return entries_; }
  const DottedVersionVector& context() const { return context_; }
  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Limits& limits() const { return limits_; }

  // "{a: [1:1, 2:3], b: [2:1]} seen {1:1, 2:3} + [4:2]".
  std::string ToString() const;

  // Header (TypeTag::kOrSet, version), the context (DottedVersionVector::EncodeBody),
  // a varint entry count, then per entry (ascending element order) the element
  // length-prefixed, a varint dot count and the dots as (replica, counter) varints.
  // Deltas use the same encoding.
  std::string Encode() const;
  // Refuses anything FromParts refuses, malformed bytes and trailing bytes; errors
  // name the field.
  static Result<OrSet> Decode(std::string_view bytes, const Limits& limits = {});

  // Equal entries and context (the limits are configuration, not state).
  friend bool operator==(const OrSet& a, const OrSet& b) {
    return a.entries_ == b.entries_ && a.context_ == b.context_;
  }

 private:
  std::vector<Entry>::iterator Find(std::string_view element);
  std::vector<Entry>::const_iterator Find(std::string_view element) const;

  Limits limits_;
  DottedVersionVector context_;
  std::vector<Entry> entries_;  // sorted by element
};

}  // namespace tri::crdt
