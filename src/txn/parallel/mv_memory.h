#pragma once

// The multi-version memory of the optimistic scheduler (Block-STM, arXiv
// 2203.06871, section 3): for every key written in the batch, the value each
// transaction's latest incarnation wrote, indexed by the writer's batch index.
// A transaction reads the highest version below its own index, so it sees the
// state the serial order would show it once every lower transaction has its
// final incarnation recorded.
//
// Thread safety: every method may be called from any worker at once, with one
// exception stated per method (calls for the same transaction are ordered by
// the scheduler: one execution of a transaction at a time, and an abort only
// of a finished execution). Keys live in shards, each behind its own mutex
// held only for one lookup or update.
//
// Memory: one cell per key written by some incarnation (a key only read has
// none), one entry per (key, writing transaction); a key an incarnation stops
// writing loses that transaction's entry.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "txn/types.h"

namespace tri::txn {

class MvMemory {
 public:
  // One key's versions (opaque outside; a read hands out its address so that
  // validation need not hash the key again). Lives until Release.
  struct Cell;

  // A key an incarnation read from below itself and the version it saw
  // (Version::kStorage: the state below the batch), with the key's cell when
  // the key had one at the time.
  struct ReadKey {
    std::string key;
    Version version;
    const Cell* cell = nullptr;
  };
  using ReadSet = std::vector<ReadKey>;

  enum class Found : std::uint8_t {
    kStorage,   // no lower transaction wrote the key: read the base state
    kValue,     // `version` wrote `value` (std::nullopt: a delete)
    kEstimate,  // `version.txn` was aborted and will likely write the key
                // again: the reader must wait for it
  };
  struct Lookup {
    Found found = Found::kStorage;
    Version version;
    std::optional<std::string> value;
    // The key's cell, if it has one (whatever `found` says).
    const Cell* cell = nullptr;
  };

  // `shard_count` is rounded up to a power of two.
  MvMemory(std::uint32_t txn_count, std::size_t shard_count);
  MvMemory(const MvMemory&) = delete;
  MvMemory& operator=(const MvMemory&) = delete;
  ~MvMemory();

  // The highest version of `key` written below transaction `reader`. The value
  // is copied only when `want_value` (validation needs the version alone).
  Lookup Read(std::string_view key, std::uint32_t reader, bool want_value) const;

  // Publishes the writes of `txn`'s incarnation (sorted by key, as TxnResult
  // keeps them) and its read set, replacing the previous incarnation's: keys it
  // no longer writes lose their entry. Returns true when it wrote a key the
  // previous incarnation did not (the paper's wrote_new_location: higher
  // transactions that read below it must be validated again).
  // REQUIRES: no other Record or MarkEstimates of `txn` runs at the same time.
  bool Record(std::uint32_t txn, std::uint32_t incarnation, std::span<const KeyWrite> writes,
              ReadSet reads);

  // Turns every entry of `txn`'s last recorded incarnation into an ESTIMATE
  // (the incarnation failed validation; its re-execution will probably write
  // the same keys, and readers should wait for it rather than read a value
  // that is about to change).
  // REQUIRES: no Record of `txn` runs at the same time.
  void MarkEstimates(std::uint32_t txn);

  // True when every read of `txn`'s last recorded read set would see the same
  // version now (an ESTIMATE never matches).
  bool ValidateReads(std::uint32_t txn) const;

  // Calls visit(key, lookup) for every key with a version below `reader`,
  // with that version (as Read would answer; values copied).
  // REQUIRES: nothing writes the memory meanwhile.
  void ForEachBelow(std::uint32_t reader,
                    const std::function<void(const std::string& key, Lookup lookup)>& visit) const;

  // Frees the versions and read sets in the `part`-th of `parts` slices of the
  // memory, so that the workers share the teardown of a large batch.
  // REQUIRES: nothing else uses the memory any more (the batch is done).
  void Release(std::size_t part, std::size_t parts);

  // Keys with at least one entry (tests: bounded memory).
  std::size_t KeyCountForTesting() const;

 private:
  struct Entry {
    std::uint32_t txn = 0;
    std::uint32_t incarnation = 0;
    bool estimate = false;
    std::optional<std::string> value;
  };
  // Stays in its shard's map (whose nodes never move) until Release.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Cell, KeyHash, KeyEq> cells;
  };
  // What the last recorded incarnation of one transaction wrote and read.
  struct TxnSlot {
    // Written only by the transaction's current execution (or its abort),
    // which the scheduler orders; never read concurrently with a write.
    std::vector<Cell*> written;  // sorted by address
    // Validators read it while a later incarnation may replace it.
    mutable std::mutex reads_mu;
    std::shared_ptr<const ReadSet> reads;
  };

  std::uint32_t ShardOf(std::size_t hash) const {
    return static_cast<std::uint32_t>(hash & (shards_.size() - 1));
  }
  // Sets `txn`'s entry of the write's key (creating the key's cell if
  // needed) under one lock of its shard.
  Cell* Upsert(const KeyWrite& write, std::uint32_t txn, std::uint32_t incarnation);
  static std::vector<Entry>::iterator FindEntry(Cell& cell, std::uint32_t txn);
  // The highest entry of `cell` below `reader`. REQUIRES: its shard's mutex.
  static Lookup Below(const Cell& cell, std::uint32_t reader, bool want_value);

  std::vector<Shard> shards_;
  std::vector<TxnSlot> txns_;
};

// One key's versions, sorted by writer. Guarded by its shard's mutex.
struct MvMemory::Cell {
  std::uint32_t shard = 0;
  std::vector<Entry> entries;
};

}  // namespace tri::txn
