#include "txn/conflict_graph.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "base/assert.h"
#include "txn/types.h"

namespace tri::txn {

namespace {

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

// Per key, while the batch is scanned in order: the last writer so far and the
// readers since it, as a singly linked list threaded through one shared pool
// (one pool entry per declared read, so no per-key allocation).
struct KeyState {
  std::uint32_t last_writer = kNone;
  std::uint32_t readers_head = kNone;  // index into ReaderPool, newest first
  // The transaction (index + 1) that last touched the key: dedupes a key
  // declared twice by one transaction.
  std::uint32_t touched_by = 0;
};

struct ReaderEntry {
  std::uint32_t txn;
  std::uint32_t next;
};

}  // namespace

ConflictGraph ConflictGraph::Build(std::span<const Transaction> batch,
                                   std::size_t max_keys_per_txn) {
  TRI_ASSERT(batch.size() < Version::kStorage);
  const auto n = static_cast<std::uint32_t>(batch.size());
  ConflictGraph graph;

  std::size_t declared = 0;
  for (const Transaction& txn : batch) {
    const std::size_t keys = txn.read_set.size() + txn.write_set.size();
    if (keys <= max_keys_per_txn) declared += keys;
  }
  // Offsets are 32 bits: at 4 bytes and more per access a batch this large
  // could not be held in memory anyway.
  TRI_ASSERT_MSG(declared < std::numeric_limits<std::uint32_t>::max(),
                 "a batch declares 2^32 or more keys in all");
  std::size_t table_size = 16;
  while (table_size < 2 * declared)
    table_size *= 2;
  graph.table_.assign(table_size, 0);
  graph.table_mask_ = table_size - 1;
  graph.keys_.reserve(declared);
  graph.declared_offsets_.assign(n + 1, 0);
  graph.declared_slots_.reserve(declared);

  std::vector<KeyState> key_states;
  key_states.reserve(declared);
  std::vector<ReaderEntry> readers;
  // Predecessors in compressed rows, built in batch order; turned into
  // successor rows at the end.
  std::vector<std::uint32_t> predecessor_offsets(n + 1, 0);
  std::vector<std::uint32_t> predecessors;
  predecessors.reserve(declared);
  // added_to[j] == i + 1: j is already a predecessor of i (dedupes edges that
  // several keys imply).
  std::vector<std::uint32_t> added_to(n, 0);
  std::vector<std::uint32_t> depth(n, 0);

  auto slot_of = [&](std::string_view key) {
    const std::uint32_t slot = graph.Intern(key);
    if (slot == key_states.size()) key_states.emplace_back();
    return slot;
  };

  for (std::uint32_t i = 0; i < n; ++i) {
    predecessor_offsets[i] = static_cast<std::uint32_t>(predecessors.size());
    graph.declared_offsets_[i] = static_cast<std::uint32_t>(graph.declared_slots_.size());
    const Transaction& txn = batch[i];
    auto add_predecessor = [&](std::uint32_t j) {
      TRI_ASSERT(j < i);
      if (added_to[j] == i + 1) return;
      added_to[j] = i + 1;
      predecessors.push_back(j);
    };
    if (txn.read_set.size() + txn.write_set.size() <= max_keys_per_txn) {
      // Writes first, so that a key also in read_set counts as written and its
      // read entry is skipped as already touched.
      for (const std::string& key : txn.write_set) {
        const std::uint32_t slot = slot_of(key);
        graph.declared_slots_.push_back(slot);
        KeyState& state = key_states[slot];
        if (state.touched_by == i + 1) continue;
        state.touched_by = i + 1;
        if (state.last_writer != kNone) add_predecessor(state.last_writer);
        for (std::uint32_t r = state.readers_head; r != kNone; r = readers[r].next) {
          add_predecessor(readers[r].txn);
        }
        state.readers_head = kNone;
        state.last_writer = i;
      }
      for (const std::string& key : txn.read_set) {
        const std::uint32_t slot = slot_of(key);
        graph.declared_slots_.push_back(slot);
        KeyState& state = key_states[slot];
        if (state.touched_by == i + 1) continue;
        state.touched_by = i + 1;
        if (state.last_writer != kNone) add_predecessor(state.last_writer);
        readers.push_back(ReaderEntry{i, state.readers_head});
        state.readers_head = static_cast<std::uint32_t>(readers.size() - 1);
      }
    }
    std::uint32_t longest_before = 0;
    for (std::size_t p = predecessor_offsets[i]; p < predecessors.size(); ++p) {
      longest_before = std::max(longest_before, depth[predecessors[p]]);
    }
    depth[i] = longest_before + 1;
    graph.critical_path_ = std::max(graph.critical_path_, depth[i]);
  }
  predecessor_offsets[n] = static_cast<std::uint32_t>(predecessors.size());
  graph.declared_offsets_[n] = static_cast<std::uint32_t>(graph.declared_slots_.size());

  // Successor rows: count, prefix sums, fill. Filling in increasing i leaves
  // every row sorted.
  graph.predecessor_counts_.resize(n);
  graph.successor_offsets_.assign(n + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    graph.predecessor_counts_[i] = predecessor_offsets[i + 1] - predecessor_offsets[i];
    for (std::uint32_t p = predecessor_offsets[i]; p < predecessor_offsets[i + 1]; ++p) {
      ++graph.successor_offsets_[predecessors[p] + 1];
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    graph.successor_offsets_[i + 1] += graph.successor_offsets_[i];
  }
  graph.successors_.resize(predecessors.size());
  std::vector<std::uint32_t> fill(graph.successor_offsets_.begin(),
                                  graph.successor_offsets_.end() - 1);
  for (std::uint32_t i = 0; i < n; ++i) {
    for (std::uint32_t p = predecessor_offsets[i]; p < predecessor_offsets[i + 1]; ++p) {
      graph.successors_[fill[predecessors[p]]++] = i;
    }
  }
  for (std::uint32_t j = 0; j < n; ++j) {
    TRI_ASSERT(fill[j] == graph.successor_offsets_[j + 1]);
  }
  return graph;
}

std::size_t ConflictGraph::Probe(std::string_view key) const {
  std::size_t at = std::hash<std::string_view>{}(key)&table_mask_;
  while (table_[at] != 0 && keys_[table_[at] - 1] != key)
    at = (at + 1) & table_mask_;
  return at;
}

std::uint32_t ConflictGraph::Intern(std::string_view key) {
  const std::size_t at = Probe(key);
  if (table_[at] != 0) return table_[at] - 1;
  // Build sized the table for every declared key at half load, so there is
  // always an empty entry to stop a probe.
  TRI_ASSERT(2 * keys_.size() < table_.size());
  keys_.push_back(key);
  table_[at] = static_cast<std::uint32_t>(keys_.size());
  return table_[at] - 1;
}

std::optional<std::uint32_t> ConflictGraph::FindSlot(std::string_view key) const {
  if (table_.empty()) return std::nullopt;
  const std::size_t at = Probe(key);
  if (table_[at] == 0) return std::nullopt;
  return table_[at] - 1;
}

}  // namespace tri::txn
