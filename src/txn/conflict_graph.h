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
#include <unordered_map>
#include <vector>

#include "txn/transaction.h"

namespace tri::txn {

class ConflictGraph {
 public:
  // A transaction declaring more than `max_keys_per_txn` keys (read_set plus
  // write_set) gets no edges and no key slots: it aborts before its body runs
  // (TxnRun), so it touches nothing, and the graph stays bounded by the limit.
  // REQUIRES: batch.size() < Version::kStorage (ValidateBatch checks).
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
  std::optional<std::uint32_t> FindSlot(std::string_view key) const {
    auto it = slot_by_key_.find(key);
    if (it == slot_by_key_.end()) return std::nullopt;
    return it->second;
  }

 private:
  ConflictGraph() = default;

  std::vector<std::uint32_t> predecessor_counts_;
  std::vector<std::uint32_t> successor_offsets_;  // size() + 1 entries
  std::vector<std::uint32_t> successors_;
  std::uint32_t critical_path_ = 0;
  std::vector<std::string_view> keys_;
  std::unordered_map<std::string_view, std::uint32_t> slot_by_key_;
};

}  // namespace tri::txn
