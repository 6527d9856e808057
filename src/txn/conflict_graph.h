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
// O(transactions + declared accesses).

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "txn/transaction.h"

namespace tri::txn {

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

  // The distinct declared keys, each with a slot index in [0, key_count()),
  // numbered in order of first appearance.
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
  ConflictGraph() = default;
  // The slot of `key`, numbering it if new.
  std::uint32_t Intern(std::string_view key);
  // Where `key` is, or the empty table entry where it would go.
  std::size_t Probe(std::string_view key) const;

  std::vector<std::uint32_t> predecessor_counts_;
  std::vector<std::uint32_t> successor_offsets_;  // size() + 1 entries
  std::vector<std::uint32_t> successors_;
  std::uint32_t critical_path_ = 0;
  std::vector<std::uint32_t> declared_offsets_;  // size() + 1 entries
  std::vector<std::uint32_t> declared_slots_;
  std::vector<std::string_view> keys_;
  // Key to slot: open addressing with linear probing over a power-of-two
  // table of slot + 1 (0 = empty), sized for at most half full. Flat arrays
  // instead of a node-based map: every declared access looks a key up while
  // the graph is built.
  std::vector<std::uint32_t> table_;
  std::size_t table_mask_ = 0;
};

}  // namespace tri::txn
