#pragma once

// RapidCheck generators of valid network raft::Messages, and a field-wise equality.

#include <rapidcheck.h>

#include "raft/types.h"

namespace tri::net::testing {

inline rc::Gen<std::set<raft::NodeId>> GenIdSet() {
  return rc::gen::container<std::set<raft::NodeId>>(rc::gen::inRange<raft::NodeId>(1, 1000));
}

inline rc::Gen<raft::MessageType> GenNetworkType() {
  return rc::gen::suchThat(rc::gen::cast<raft::MessageType>(rc::gen::inRange<int>(
                               0, static_cast<int>(raft::MessageType::kReadIndexResp) + 1)),
                           [](raft::MessageType t) { return !raft::IsLocalMessage(t); });
}

// Ids, terms and indexes spread over small and full 64-bit values (varint lengths).
inline rc::Gen<std::uint64_t> GenU64() {
  return rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 300),
                        rc::gen::arbitrary<std::uint64_t>());
}

inline raft::Message GenMessage() {
  raft::Message m;
  m.type = *GenNetworkType();
  m.to = *rc::gen::inRange<raft::NodeId>(1, UINT64_MAX);
  m.from = *rc::gen::inRange<raft::NodeId>(1, UINT64_MAX);
  m.term = *GenU64();
  m.log_term = *GenU64();
  m.index = *rc::gen::inRange<raft::Index>(0, UINT64_MAX / 2);
  m.commit = *GenU64();
  m.reject = *rc::gen::arbitrary<bool>();
  m.reject_hint = *GenU64();
  m.reject_hint_term = *GenU64();
  m.context = *rc::gen::arbitrary<std::string>();
  m.target = *GenU64();
  const auto entry_count = *rc::gen::inRange<std::size_t>(0, 6);
  for (std::size_t i = 0; i < entry_count; ++i) {
    raft::Entry e;
    e.index = m.type == raft::MessageType::kApp ? m.index + 1 + i : *GenU64();
    e.term = *GenU64();
    e.type = *rc::gen::element(raft::EntryType::kNormal, raft::EntryType::kConfChange);
    e.data = *rc::gen::arbitrary<std::string>();
    m.entries.push_back(std::move(e));
  }
  if (m.type == raft::MessageType::kSnap || *rc::gen::arbitrary<bool>()) {
    raft::SnapshotChunk c;
    c.metadata.index = *GenU64();
    c.metadata.term = *GenU64();
    c.metadata.conf_state.voters = *GenIdSet();
    c.metadata.conf_state.learners = *GenIdSet();
    c.metadata.conf_state.removed = *GenIdSet();
    c.data = *rc::gen::arbitrary<std::string>();
    c.offset_bytes = *rc::gen::inRange<std::uint64_t>(0, 1 << 20);
    c.total_size_bytes = c.offset_bytes + c.data.size() + *rc::gen::inRange<std::uint64_t>(0, 100);
    m.snapshot = std::move(c);
  }
  return m;
}

// A chunk built field by field (brace-initializing the nested sets trips a false
// -Wmaybe-uninitialized in GCC 12).
inline raft::SnapshotChunk Chunk(raft::Index index, raft::Term term, std::set<raft::NodeId> voters,
                                 std::uint64_t offset_bytes, std::uint64_t total_size_bytes,
                                 std::string data) {
  raft::SnapshotChunk c;
  c.metadata.index = index;
  c.metadata.term = term;
  c.metadata.conf_state.voters = std::move(voters);
  c.offset_bytes = offset_bytes;
  c.total_size_bytes = total_size_bytes;
  c.data = std::move(data);
  return c;
}

inline bool SameMessage(const raft::Message& a, const raft::Message& b) {
  const bool same_snapshot =
      a.snapshot.has_value() == b.snapshot.has_value() &&
      (!a.snapshot || (a.snapshot->metadata == b.snapshot->metadata &&
                       a.snapshot->offset_bytes == b.snapshot->offset_bytes &&
                       a.snapshot->total_size_bytes == b.snapshot->total_size_bytes &&
                       a.snapshot->data == b.snapshot->data));
  return a.type == b.type && a.to == b.to && a.from == b.from && a.term == b.term &&
         a.log_term == b.log_term && a.index == b.index && a.entries == b.entries &&
         a.commit == b.commit && a.reject == b.reject && a.reject_hint == b.reject_hint &&
         a.reject_hint_term == b.reject_hint_term && a.context == b.context &&
         a.target == b.target && same_snapshot;
}

}  // namespace tri::net::testing
