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
// readers since it, as a singly linked list threaded through one pool (one
// pool entry per declared read, so no per-key allocation).
struct KeyState {
  std::uint32_t last_writer = kNone;
  std::uint32_t readers_head = kNone;  // index into the reader pool, newest first
  // The transaction (index + 1) that last touched the key: dedupes a key
  // declared twice by one transaction.
  std::uint32_t touched_by = 0;
};

struct ReaderEntry {
  std::uint32_t txn;
  std::uint32_t next;
};

std::size_t HashKey(std::string_view key) {
  return std::hash<std::string_view>{}(key);
}

// Where `key` (with hash `hash`) is in `table`, or the empty entry where it
// would go; `keys` are the table's keys by local index.
std::size_t Probe(const std::vector<std::uint32_t>& entries, std::size_t mask,
                  std::span<const std::string_view> keys, std::string_view key, std::size_t hash) {
  std::size_t at = hash & mask;
  while (entries[at] != 0 && keys[entries[at] - 1] != key)
    at = (at + 1) & mask;
  return at;
}

}  // namespace

ConflictGraph ConflictGraph::Build(std::span<const Transaction> batch,
                                   std::size_t max_keys_per_txn) {
  ConflictGraphBuilder builder(batch, max_keys_per_txn, /*partitions=*/1);
  builder.BuildPartition(0);
  return builder.Finish();
}

std::optional<std::uint32_t> ConflictGraph::FindSlot(std::string_view key) const {
  if (tables_.empty()) return std::nullopt;
  const std::size_t hash = HashKey(key);
  const KeyTable& table = tables_[PartitionOf(hash, static_cast<std::uint32_t>(tables_.size()))];
  const std::span<const std::string_view> keys(keys_.data() + table.base,
                                               keys_.size() - table.base);
  const std::size_t at = Probe(table.entries, table.mask, keys, key, hash);
  if (table.entries[at] == 0) return std::nullopt;
  return table.base + table.entries[at] - 1;
}

ConflictGraphBuilder::ConflictGraphBuilder(std::span<const Transaction> batch,
                                           std::size_t max_keys_per_txn, std::uint32_t partitions)
    : batch_(batch), n_(static_cast<std::uint32_t>(batch.size())), partitions_(partitions) {
  TRI_ASSERT(batch.size() < Version::kStorage);
  TRI_ASSERT(partitions >= 1);
  graph_.declared_offsets_.assign(n_ + 1, 0);
  std::size_t declared = 0;
  for (std::uint32_t i = 0; i < n_; ++i) {
    graph_.declared_offsets_[i] = static_cast<std::uint32_t>(declared);
    const std::size_t keys = batch[i].read_set.size() + batch[i].write_set.size();
    if (keys <= max_keys_per_txn) declared += keys;
    // Offsets are 32 bits: at 4 bytes and more per access a batch this large
    // could not be held in memory anyway.
    TRI_ASSERT_MSG(declared < std::numeric_limits<std::uint32_t>::max(),
                   "a batch declares 2^32 or more keys in all");
  }
  graph_.declared_offsets_[n_] = static_cast<std::uint32_t>(declared);
  graph_.declared_slots_.assign(declared, 0);
  if (partitions > 1) access_partitions_.assign(declared, 0);
}

std::string_view ConflictGraphBuilder::DeclaredKey(std::uint32_t txn, std::size_t position) const {
  const Transaction& t = batch_[txn];
  return position < t.write_set.size()
             ? std::string_view(t.write_set[position])
             : std::string_view(t.read_set[position - t.write_set.size()]);
}

void ConflictGraphBuilder::BuildPartition(std::uint32_t partition) {
  TRI_ASSERT(partition < partitions_.size());
  Partition& part = partitions_[partition];
  const bool one_partition = partitions_.size() == 1;
  // Sized for this partition's share of the declared keys (all of them for
  // one partition, which never grows), grown when it gets more.
  const std::size_t expected = graph_.declared_slots_.size() / partitions_.size();
  std::size_t table_size = 16;
  while (table_size < 2 * expected)
    table_size *= 2;
  part.table.entries.assign(table_size, 0);
  part.table.mask = table_size - 1;
  auto grow = [&] {
    table_size *= 2;
    part.table.entries.assign(table_size, 0);
    part.table.mask = table_size - 1;
    for (std::uint32_t local = 0; local < part.keys.size(); ++local) {
      std::size_t at = HashKey(part.keys[local]) & part.table.mask;
      while (part.table.entries[at] != 0)
        at = (at + 1) & part.table.mask;
      part.table.entries[at] = local + 1;
    }
  };

  std::vector<KeyState> states;
  std::vector<ReaderEntry> readers;
  for (std::uint32_t i = 0; i < n_; ++i) {
    const std::uint32_t first = graph_.declared_offsets_[i];
    const std::size_t writes = batch_[i].write_set.size();
    // Write-set entries come first, so that a key also in read_set counts as
    // written and its read entry is skipped as already touched.
    for (std::uint32_t k = first; k < graph_.declared_offsets_[i + 1]; ++k) {
      const std::string_view key = DeclaredKey(i, k - first);
      const std::size_t hash = HashKey(key);
      if (!one_partition && PartitionOf(hash) != partition) continue;
      std::size_t at = Probe(part.table.entries, part.table.mask, part.keys, key, hash);
      if (part.table.entries[at] == 0) {
        // At most half full, so that a probe always meets an empty entry.
        if (2 * (part.keys.size() + 1) > table_size) {
          grow();
          at = Probe(part.table.entries, part.table.mask, part.keys, key, hash);
        }
        part.keys.push_back(key);
        part.table.entries[at] = static_cast<std::uint32_t>(part.keys.size());
        states.emplace_back();
      }
      const std::uint32_t local = part.table.entries[at] - 1;
      graph_.declared_slots_[k] = local;  // made global in Finish
      if (!one_partition) access_partitions_[k] = partition;
      KeyState& state = states[local];
      if (state.touched_by == i + 1) continue;
      state.touched_by = i + 1;
      if (state.last_writer != kNone) part.edges.push_back(Edge{state.last_writer, i});
      if (k - first < writes) {
        for (std::uint32_t r = state.readers_head; r != kNone; r = readers[r].next) {
          part.edges.push_back(Edge{readers[r].txn, i});
        }
        state.readers_head = kNone;
        state.last_writer = i;
      } else {
        readers.push_back(ReaderEntry{i, state.readers_head});
        state.readers_head = static_cast<std::uint32_t>(readers.size() - 1);
      }
    }
  }
}

ConflictGraph ConflictGraphBuilder::Finish() {
  ConflictGraph& graph = graph_;
  // Slots: partition p's keys follow those of the partitions before it.
  std::size_t keys = 0;
  std::size_t edges = 0;
  for (Partition& part : partitions_) {
    part.table.base = static_cast<std::uint32_t>(keys);
    keys += part.keys.size();
    edges += part.edges.size();
  }
  graph.keys_.reserve(keys);
  for (Partition& part : partitions_) {
    graph.keys_.insert(graph.keys_.end(), part.keys.begin(), part.keys.end());
  }
  if (partitions_.size() > 1) {
    for (std::size_t k = 0; k < access_partitions_.size(); ++k) {
      graph.declared_slots_[k] += partitions_[access_partitions_[k]].table.base;
    }
  }

  // Predecessor rows: bucket every partition's edges by `to`, then drop the
  // repeats (added_to[j] == i + 1: j is already a predecessor of i).
  std::vector<std::uint32_t> bucket_offsets(n_ + 1, 0);
  for (const Partition& part : partitions_) {
    for (const Edge& edge : part.edges)
      ++bucket_offsets[edge.to + 1];
  }
  for (std::uint32_t i = 0; i < n_; ++i)
    bucket_offsets[i + 1] += bucket_offsets[i];
  std::vector<std::uint32_t> bucketed(edges);
  {
    std::vector<std::uint32_t> fill(bucket_offsets.begin(), bucket_offsets.end() - 1);
    for (const Partition& part : partitions_) {
      for (const Edge& edge : part.edges) {
        TRI_ASSERT(edge.from < edge.to);
        bucketed[fill[edge.to]++] = edge.from;
      }
    }
  }
  std::vector<std::uint32_t> added_to(n_, 0);
  std::vector<std::uint32_t> depth(n_, 0);
  std::vector<std::uint32_t> predecessor_offsets(n_ + 1, 0);
  std::vector<std::uint32_t> predecessors;
  predecessors.reserve(edges);
  graph.predecessor_counts_.resize(n_);
  for (std::uint32_t i = 0; i < n_; ++i) {
    predecessor_offsets[i] = static_cast<std::uint32_t>(predecessors.size());
    std::uint32_t longest_before = 0;
    for (std::uint32_t e = bucket_offsets[i]; e < bucket_offsets[i + 1]; ++e) {
      const std::uint32_t j = bucketed[e];
      if (added_to[j] == i + 1) continue;
      added_to[j] = i + 1;
      predecessors.push_back(j);
      longest_before = std::max(longest_before, depth[j]);
    }
    graph.predecessor_counts_[i] =
        static_cast<std::uint32_t>(predecessors.size()) - predecessor_offsets[i];
    depth[i] = longest_before + 1;
    graph.critical_path_ = std::max(graph.critical_path_, depth[i]);
  }
  predecessor_offsets[n_] = static_cast<std::uint32_t>(predecessors.size());

  // Successor rows: count, prefix sums, fill. Filling in increasing i leaves
  // every row sorted.
  graph.successor_offsets_.assign(n_ + 1, 0);
  for (std::uint32_t j : predecessors)
    ++graph.successor_offsets_[j + 1];
  for (std::uint32_t i = 0; i < n_; ++i)
    graph.successor_offsets_[i + 1] += graph.successor_offsets_[i];
  graph.successors_.resize(predecessors.size());
  std::vector<std::uint32_t> fill(graph.successor_offsets_.begin(),
                                  graph.successor_offsets_.end() - 1);
  for (std::uint32_t i = 0; i < n_; ++i) {
    for (std::uint32_t p = predecessor_offsets[i]; p < predecessor_offsets[i + 1]; ++p) {
      graph.successors_[fill[predecessors[p]]++] = i;
    }
  }
  for (std::uint32_t j = 0; j < n_; ++j) {
    TRI_ASSERT(fill[j] == graph.successor_offsets_[j + 1]);
  }

  graph.tables_.reserve(partitions_.size());
  for (Partition& part : partitions_)
    graph.tables_.push_back(std::move(part.table));
  partitions_.clear();
  access_partitions_.clear();
  return std::move(graph_);
}

}  // namespace tri::txn
