#pragma once

// The conflict graph of a batch whose transactions declare their read and
// write sets (the declared scheduler, docs/transactions.md). A vertex per
// transaction; an edge j -> i (j < i) whenever serial order requires i to run
// after j, taken per key in batch order:
//   write-read:  a reader depends on the last earlier writer of the key;
//   write-write: a writer depends on the last earlier writer of the key;
//   read-write:  a writer depends on every reader since that last writer.
// A key in both sets of one transaction counts as written. Every edge goes
// from a lower to a higher index, so batch order is a topological order.
//
// Pure and immutable once built; stored as compact arrays (predecessor counts,
// successor lists in compressed rows, one slot per distinct key), so memory is
// O(transactions + declared accesses). ConflictGraphBuilder builds the same
// graph in phases that a driver may spread over threads.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "txn/transaction.h"

namespace tri::txn {

class ConflictGraphBuilder;

class ConflictGraph {
 public:
  // A transaction declaring more than `max_keys_per_txn` keys (read_set plus
  // write_set) gets no edges and no key slots: it aborts before its body runs
  // (TxnRun), so it touches nothing, and the graph stays bounded by the limit.
  // REQUIRES: batch.size() < Version::kStorage (ValidateBatch checks), and
  // fewer than 2^32 declared keys in all (counted with duplicates).
  // The graph refers to the batch's key strings: the batch must outlive it.
  static ConflictGraph Build(std::span<const Transaction> batch, std::size_t max_keys_per_txn);

  std::uint32_t size() const { return static_cast<std::uint32_t>(predecessor_counts_.size()); }

  // How many distinct transactions `txn` depends on.
  std::uint32_t predecessor_count(std::uint32_t txn) const { return predecessor_counts_[txn]; }
  // The transactions that depend on `txn`, each once, in increasing order.
  std::span<const std::uint32_t> successors(std::uint32_t txn) const {
    return {successors_.data() + successor_offsets_[txn],
            successors_.data() + successor_offsets_[txn + 1]};
  }
  std::size_t edge_count() const { return successors_.size(); }

  // The number of transactions on the longest dependency chain (0 for an
  // empty batch, n when every transaction depends on the one before). n
  // divided by it bounds the speedup any schedule can get.
  std::uint32_t critical_path() const { return critical_path_; }

  // The distinct declared keys, each with a slot index in [0, key_count()):
  // by key partition (one for Build), then in order of first appearance.
  std::uint32_t key_count() const { return static_cast<std::uint32_t>(keys_.size()); }
  std::string_view key(std::uint32_t slot) const { return keys_[slot]; }
  std::optional<std::uint32_t> FindSlot(std::string_view key) const;
  // The slot of each key `txn` declares, write_set entries first, then
  // read_set entries, one per entry in declaration order (duplicates too):
  // a scheduler finds a key's slot by position in the transaction's own small
  // sets instead of hashing it. Empty for a transaction declaring more than
  // max_keys_per_txn keys.
  std::span<const std::uint32_t> declared_slots(std::uint32_t txn) const {
    return {declared_slots_.data() + declared_offsets_[txn],
            declared_slots_.data() + declared_offsets_[txn + 1]};
  }

 private:
  friend class ConflictGraphBuilder;
  // One partition's keys: open addressing with linear probing over a
  // power-of-two table of local index + 1 (0 = empty), at most half full;
  // local index i is slot base + i. Flat arrays instead of a node-based map:
  // every declared access looks its key up while the graph is built.
  struct KeyTable {
    std::vector<std::uint32_t> entries;
    std::size_t mask = 0;
    std::uint32_t base = 0;
  };
  ConflictGraph() = default;
  // The partition of a key's hash: the high 32 bits scaled to [0, partitions)
  // (a multiply, not a division; the low bits pick the table entry).
  static std::uint32_t PartitionOf(std::size_t hash, std::uint32_t partitions) {
    return static_cast<std::uint32_t>(((std::uint64_t{hash} >> 32) * partitions) >> 32);
  }

  std::vector<std::uint32_t> predecessor_counts_;
  std::vector<std::uint32_t> successor_offsets_;  // size() + 1 entries
  std::vector<std::uint32_t> successors_;
  std::uint32_t critical_path_ = 0;
  std::vector<std::uint32_t> declared_offsets_;  // size() + 1 entries
  std::vector<std::uint32_t> declared_slots_;
  std::vector<std::string_view> keys_;
  std::vector<KeyTable> tables_;  // one per key partition
};

// Builds a ConflictGraph in two phases, so that a driver can spread the first
// over threads (this class starts none):
//   1. BuildPartition(p) for every p in [0, partitions()): the keys whose hash
//      falls in partition p, their slots and the edges they imply, scanning
//      the batch in order (each call hashes every declared key to find its
//      own: cheaper than a phase and a fork-join more);
//   2. Finish(), once, after every BuildPartition: slots made global, edges merged
//      and deduplicated, successor rows and the critical path.
// BuildPartition calls touch disjoint data and may run concurrently; the
// caller orders the phases (a fork-join does). With one partition the result
// is Build's graph; with more, the same edges and critical path, the slots
// numbered partition after partition.
class ConflictGraphBuilder {
 public:
  // Same contract as ConflictGraph::Build. REQUIRES: partitions >= 1.
  ConflictGraphBuilder(std::span<const Transaction> batch, std::size_t max_keys_per_txn,
                       std::uint32_t partitions);

  std::uint32_t size() const { return n_; }
  std::uint32_t partitions() const { return static_cast<std::uint32_t>(partitions_.size()); }
  void BuildPartition(std::uint32_t partition);
  // After BuildPartition(partition), until Finish: its keys by local number;
  // in the graph they are consecutive slots, partition after partition.
  std::span<const std::string_view> partition_keys(std::uint32_t partition) const {
    return partitions_[partition].keys;
  }
  ConflictGraph Finish();

 private:
  struct Edge {
    std::uint32_t from;
    std::uint32_t to;
  };
  struct Partition {
    ConflictGraph::KeyTable table;
    std::vector<std::string_view> keys;
    // In increasing `to`; may repeat an edge that two keys imply.
    std::vector<Edge> edges;
  };
  std::uint32_t PartitionOf(std::size_t hash) const {
    return ConflictGraph::PartitionOf(hash, static_cast<std::uint32_t>(partitions_.size()));
  }
  std::string_view DeclaredKey(std::uint32_t txn, std::size_t position) const;

  std::span<const Transaction> batch_;
  std::uint32_t n_;
  ConflictGraph graph_;  // offsets, then everything, filled by the phases
  // Per declared access (as declared_slots_): the partition that owns its key,
  // written by that partition.
  std::vector<std::uint32_t> access_partitions_;
  std::vector<Partition> partitions_;
};

}  // namespace tri::txn
