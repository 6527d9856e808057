#include "txn/parallel/mv_memory.h"

#include <algorithm>
#include <bit>

#include "base/assert.h"

namespace tri::txn {

MvMemory::MvMemory(std::uint32_t txn_count, std::size_t shard_count)
    : shards_(std::bit_ceil(std::max<std::size_t>(shard_count, 1))), txns_(txn_count) {}

MvMemory::~MvMemory() = default;

MvMemory::Lookup MvMemory::Read(std::string_view key, std::uint32_t reader, bool want_value) const {
  const Shard& shard = shards_[ShardOf(KeyHash{}(key))];
  std::lock_guard lock(shard.mu);
  auto it = shard.cells.find(key);
  if (it == shard.cells.end()) return Lookup{};
  return Below(it->second, reader, want_value);
}

MvMemory::Lookup MvMemory::Below(const Cell& cell, std::uint32_t reader, bool want_value) {
  Lookup lookup;
  lookup.cell = &cell;
  // The first entry at or above the reader; the one before it is the highest
  // below.
  auto above = std::lower_bound(cell.entries.begin(), cell.entries.end(), reader,
                                [](const Entry& e, std::uint32_t txn) { return e.txn < txn; });
  if (above == cell.entries.begin()) return lookup;
  const Entry& below = *std::prev(above);
  TRI_DASSERT(below.txn < reader);
  lookup.version = Version{below.txn, below.incarnation};
  if (below.estimate) {
    lookup.found = Found::kEstimate;
    return lookup;
  }
  lookup.found = Found::kValue;
  if (want_value) lookup.value = below.value;
  return lookup;
}

MvMemory::Cell* MvMemory::Upsert(const KeyWrite& write, std::uint32_t txn,
                                 std::uint32_t incarnation) {
  const std::uint32_t index = ShardOf(KeyHash{}(write.key));
  Shard& shard = shards_[index];
  std::lock_guard lock(shard.mu);
  auto it = shard.cells.find(std::string_view(write.key));
  if (it == shard.cells.end()) it = shard.cells.emplace(write.key, Cell{index, {}}).first;
  Cell& cell = it->second;
  auto at = FindEntry(cell, txn);
  if (at != cell.entries.end() && at->txn == txn) {
    at->incarnation = incarnation;
    at->estimate = false;
    at->value = write.value;
  } else {
    cell.entries.insert(at, Entry{txn, incarnation, false, write.value});
  }
  return &cell;
}

std::vector<MvMemory::Entry>::iterator MvMemory::FindEntry(Cell& cell, std::uint32_t txn) {
  return std::lower_bound(cell.entries.begin(), cell.entries.end(), txn,
                          [](const Entry& e, std::uint32_t t) { return e.txn < t; });
}

bool MvMemory::Record(std::uint32_t txn, std::uint32_t incarnation,
                      std::span<const KeyWrite> writes, ReadSet reads) {
  TRI_ASSERT(txn < txns_.size());
  TxnSlot& slot = txns_[txn];
  std::vector<Cell*> written;
  written.reserve(writes.size());
  for (const KeyWrite& write : writes)
    written.push_back(Upsert(write, txn, incarnation));
  std::sort(written.begin(), written.end());
  TRI_ASSERT_MSG(std::adjacent_find(written.begin(), written.end()) == written.end(),
                 "an incarnation's writes name each key once");

  // Keys the previous incarnation wrote and this one does not: drop their
  // entries, so readers fall through to a lower writer or the base state.
  // Removal comes after the new writes, so no reader of a key still written
  // sees it vanish in between.
  std::vector<Cell*> dropped;
  std::set_difference(slot.written.begin(), slot.written.end(), written.begin(), written.end(),
                      std::back_inserter(dropped));
  for (Cell* cell : dropped) {
    std::lock_guard lock(shards_[cell->shard].mu);
    auto at = FindEntry(*cell, txn);
    TRI_ASSERT_MSG(at != cell->entries.end() && at->txn == txn,
                   "a previously written key keeps its entry until rewritten");
    cell->entries.erase(at);
  }
  const bool wrote_new_location =
      !std::includes(slot.written.begin(), slot.written.end(), written.begin(), written.end());
  slot.written = std::move(written);

  auto shared = std::make_shared<const ReadSet>(std::move(reads));
  std::lock_guard lock(slot.reads_mu);
  slot.reads = std::move(shared);
  return wrote_new_location;
}

void MvMemory::MarkEstimates(std::uint32_t txn) {
  TRI_ASSERT(txn < txns_.size());
  for (Cell* cell : txns_[txn].written) {
    std::lock_guard lock(shards_[cell->shard].mu);
    auto at = FindEntry(*cell, txn);
    TRI_ASSERT_MSG(at != cell->entries.end() && at->txn == txn,
                   "a recorded write keeps its entry until the next incarnation");
    at->estimate = true;
    // The value will not be read again: free it now.
    at->value.reset();
  }
}

bool MvMemory::ValidateReads(std::uint32_t txn) const {
  TRI_ASSERT(txn < txns_.size());
  const TxnSlot& slot = txns_[txn];
  std::shared_ptr<const ReadSet> reads;
  {
    std::lock_guard lock(slot.reads_mu);
    reads = slot.reads;
  }
  TRI_ASSERT_MSG(reads != nullptr, "validation of a transaction never recorded");
  for (const ReadKey& read : *reads) {
    Lookup now;
    if (read.cell != nullptr) {
      std::lock_guard lock(shards_[read.cell->shard].mu);
      now = Below(*read.cell, txn, /*want_value=*/false);
    } else {
      now = Read(read.key, txn, /*want_value=*/false);
    }
    switch (now.found) {
      case Found::kStorage:
        if (!read.version.from_storage()) return false;
        break;
      case Found::kValue:
        if (now.version != read.version) return false;
        break;
      case Found::kEstimate:
        return false;
    }
  }
  return true;
}

void MvMemory::ForEachBelow(
    std::uint32_t reader,
    const std::function<void(const std::string& key, Lookup lookup)>& visit) const {
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [key, cell] : shard.cells) {
      Lookup lookup = Below(cell, reader, /*want_value=*/true);
      if (lookup.found != Found::kStorage) visit(key, std::move(lookup));
    }
  }
}

void MvMemory::Release(std::size_t part, std::size_t parts) {
  TRI_ASSERT(parts > 0 && part < parts);
  for (std::size_t i = part; i < shards_.size(); i += parts) {
    std::lock_guard lock(shards_[i].mu);
    shards_[i].cells.clear();
  }
  for (std::size_t i = part; i < txns_.size(); i += parts) {
    TxnSlot& slot = txns_[i];
    slot.written = {};
    std::lock_guard lock(slot.reads_mu);
    slot.reads.reset();
  }
}

std::size_t MvMemory::KeyCountForTesting() const {
  std::size_t keys = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [key, cell] : shard.cells) {
      if (!cell.entries.empty()) ++keys;
    }
  }
  return keys;
}

}  // namespace tri::txn
