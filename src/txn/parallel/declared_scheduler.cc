#include "txn/parallel/declared_scheduler.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "txn/conflict_graph.h"
#include "txn/parallel/trace_buffer.h"
#include "txn/txn_run.h"

namespace tri::txn {

namespace {

// Parallelism (transactions / longest chain) below this cannot pay for the
// hand-offs between threads: the batch runs on the calling thread alone.
constexpr std::uint32_t kMinParallelismPercent = 150;
// Batches of at least this many transactions build their conflict graph and
// read their keys' base values on every worker (a sequential build is a few
// percent of the batch, which caps the speedup at many threads); smaller ones
// on the calling thread.
constexpr std::uint32_t kParallelGraphTxns = 2048;
// A worker claims up to this many consecutive transactions at once, so that
// neighbours in batch order (their pending counts and results share cache
// lines) mostly stay on one thread and the claim cursor is touched less.
constexpr std::uint32_t kMaxClaimChunk = 8;
// ... but small enough that every worker gets this many chunks.
constexpr std::uint32_t kClaimChunksPerWorker = 64;

// A key's latest value in the batch so far: the base's, or the last committed
// write to it (pointing into that transaction's TxnResult, which does not move
// while the batch runs).
//
// Synchronisation: a slot is written only by a transaction that declared the
// key as written, after every earlier transaction declaring the key finished
// (write-write and read-write edges), and read only by transactions that
// depend on its last writer (write-read edges). Each such edge is a
// release/acquire pair on the dependent's pending count, so every slot access
// is ordered by happens-before and the slots themselves need no atomics.
struct Slot {
  const std::optional<std::string>* value = nullptr;
  std::uint32_t writer = Version::kStorage;
};

// Up to this many declared keys a string scan of the transaction's own sets
// beats hashing the key.
constexpr std::size_t kScanDeclaredKeys = 16;

// The slot of a key transaction `index` declared.
std::uint32_t SlotOf(const ConflictGraph& graph, std::uint32_t index, const Transaction& txn,
                     std::string_view key) {
  std::span<const std::uint32_t> slots = graph.declared_slots(index);
  if (slots.size() <= kScanDeclaredKeys) {
    TRI_ASSERT(slots.size() == txn.write_set.size() + txn.read_set.size());
    for (std::size_t k = 0; k < txn.write_set.size(); ++k) {
      if (txn.write_set[k] == key) return slots[k];
    }
    for (std::size_t k = 0; k < txn.read_set.size(); ++k) {
      if (txn.read_set[k] == key) return slots[txn.write_set.size() + k];
    }
  }
  std::optional<std::uint32_t> slot = graph.FindSlot(key);
  TRI_ASSERT_MSG(slot.has_value(), "a declared key has a slot");
  return *slot;
}

class DeclaredRun final : public TxnRun {
 public:
  DeclaredRun(std::uint32_t index, const Transaction& txn, const TxnLimits& limits,
              TraceSink* trace, const ConflictGraph& graph, const std::vector<Slot>& slots)
      : TxnRun(index, /*incarnation=*/0, txn, limits, /*enforce_declared=*/true, trace),
        index_(index),
        txn_(txn),
        graph_(graph),
        slots_(slots) {}

 protected:
  // TxnRun checked the key against the declared sets, so it has a slot.
  Below ReadBelow(std::string_view key) override {
    const Slot& latest = slots_[SlotOf(graph_, index_, txn_, key)];
    return Below{*latest.value, Version{latest.writer, 0}};
  }

 private:
  const std::uint32_t index_;
  const Transaction& txn_;
  const ConflictGraph& graph_;
  const std::vector<Slot>& slots_;
};

// How an idle worker waits: spin briefly (work often appears within a
// transaction's time), then yield the core, then sleep until woken, so that
// idle workers neither starve the busy ones when threads outnumber cores nor
// burn a core each through a long chain.
class Backoff {
 public:
  // False once it is time to sleep.
  bool Pause() {
    if (spins_ < kSpins) {
      ++spins_;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      return true;
    }
    if (yields_ < kYields) {
      ++yields_;
      std::this_thread::yield();
      return true;
    }
    return false;
  }
  void Reset() {
    spins_ = 0;
    yields_ = 0;
  }

 private:
  static constexpr int kSpins = 64;
  static constexpr int kYields = 64;
  int spins_ = 0;
  int yields_ = 0;
};

// One RunDeclared call.
class DeclaredBatch {
 public:
  DeclaredBatch(WorkerPool& pool, const StateView& base, std::span<const Transaction> batch,
                const ExecuteOptions& options)
      : pool_(pool),
        base_(base),
        batch_(batch),
        options_(options),
        n_(static_cast<std::uint32_t>(batch.size())),
        graph_(Prepare()),
        slots_(graph_.key_count()),
        results_(batch.size()) {
    // Every slot starts at its key's base value: partitions' keys in order
    // are the slots in order.
    std::uint32_t slot = 0;
    for (const std::vector<std::optional<std::string>>& values : base_values_) {
      for (const std::optional<std::string>& value : values)
        slots_[slot++] = Slot{&value, Version::kStorage};
    }
    TRI_ASSERT(slot == graph_.key_count());
  }

  BatchResult Run() {
    BatchResult result;
    if (RunsAlone()) {
      TraceBuffers traces(1, options_.trace);
      for (std::uint32_t i = 0; i < n_; ++i)
        Execute(i, traces.sink(0));
      result.trace = traces.Merge();
    } else {
      TraceBuffers traces(pool_.size(), options_.trace);
      RunParallel(traces);
      result.trace = traces.Merge();
    }
    result.txns = std::move(results_);
    return result;
  }

 private:
  // Builds the conflict graph and reads every declared key's base value
  // (base_values_: one vector per key partition, by the partition's slot
  // order). On every worker: one key partition each, whose base values the
  // same worker then reads.
  ConflictGraph Prepare() {
    const std::size_t max_keys = options_.limits.max_keys_per_txn;
    if (pool_.size() == 1 || n_ < kParallelGraphTxns) {
      ConflictGraph graph = ConflictGraph::Build(batch_, max_keys);
      base_values_.assign(1, std::vector<std::optional<std::string>>(graph.key_count()));
      for (std::uint32_t slot = 0; slot < graph.key_count(); ++slot)
        base_values_[0][slot] = base_.Get(graph.key(slot));
      return graph;
    }
    ConflictGraphBuilder builder(batch_, max_keys, static_cast<std::uint32_t>(pool_.size()));
    base_values_.resize(builder.partitions());
    std::atomic<std::uint32_t> partition_cursor{0};
    pool_.Run([&](std::uint32_t /*worker*/) {
      for (;;) {
        const std::uint32_t partition = partition_cursor.fetch_add(1, std::memory_order_relaxed);
        if (partition >= builder.partitions()) return;
        builder.BuildPartition(partition);
        std::span<const std::string_view> keys = builder.partition_keys(partition);
        std::vector<std::optional<std::string>>& values = base_values_[partition];
        values.reserve(keys.size());
        for (std::string_view key : keys)
          values.push_back(base_.Get(key));
      }
    });
    // The fork-join ordered every partition before Finish.
    return builder.Finish();
  }

  // Decided from the graph, before anything runs. With one worker there is no
  // one to hand off to. When the longest chain holds most of the batch (at
  // total contention, e.g. transfers among 2 accounts, it holds all of it),
  // nearly every transaction waits for the one before, which another thread
  // just finished: the run would be serial anyway, plus a cache-line hand-off
  // and a wake-up per transaction. The calling thread alone then runs the
  // batch in order with no atomics, which keeps it at serial speed.
  bool RunsAlone() const {
    if (pool_.size() == 1 || n_ < 2) return true;
    const std::uint64_t parallelism_percent =
        std::uint64_t{n_} * 100 / std::max<std::uint32_t>(graph_.critical_path(), 1);
    return parallelism_percent < kMinParallelismPercent;
  }

  // Runs transaction `txn` (its predecessors have all finished) and publishes
  // its committed writes to the slots.
  void Execute(std::uint32_t txn, TraceSink* sink) {
    DeclaredRun run(txn, batch_[txn], options_.limits, sink, graph_, slots_);
    run.Run();
    TRI_ASSERT_MSG(!run.must_wait(), "a declared-set read never waits");
    results_[txn] = run.TakeResult();
    for (const KeyWrite& write : results_[txn].writes) {
      slots_[SlotOf(graph_, txn, batch_[txn], write.key)] = Slot{&write.value, txn};
    }
  }

  // Every worker runs the same collaborative loop. A transaction becomes
  // runnable when its pending count (predecessors + 1) reaches zero: the
  // predecessors each take one off when they finish, and the claim takes the
  // last one off when a worker reaches it in batch order. Whoever takes the
  // count to zero owns the transaction, so each runs exactly once.
  void RunParallel(TraceBuffers& traces) {
    pending_ = std::vector<std::atomic<std::uint32_t>>(n_);
    for (std::uint32_t i = 0; i < n_; ++i) {
      pending_[i].store(graph_.predecessor_count(i) + 1, std::memory_order_relaxed);
    }
    claim_chunk_ = std::clamp<std::uint32_t>(
        n_ / static_cast<std::uint32_t>(pool_.size() * kClaimChunksPerWorker), 1, kMaxClaimChunk);
    pool_.Run([&](std::uint32_t worker) { Work(traces.sink(worker)); });
    // The pool's join orders every worker's results before this thread's reads.
    TRI_ASSERT(finished_.load(std::memory_order_relaxed) == n_);
  }

  // Transactions this worker claimed that were ready: only it runs them.
  struct Claimed {
    std::array<std::uint32_t, kMaxClaimChunk> txns;
    std::uint32_t begin = 0;
    std::uint32_t end = 0;
    std::optional<std::uint32_t> Take() {
      if (begin == end) return std::nullopt;
      return txns[begin++];
    }
  };

  void Work(TraceSink* sink) {
    std::optional<std::uint32_t> next;
    Claimed claimed;
    std::vector<std::uint32_t> released;
    // Finished here but not yet added to finished_: one shared increment per
    // idle spell instead of one per transaction keeps that cache line quiet.
    // Every worker flushes before it checks for the end, so the count
    // reaches n exactly when every transaction has finished.
    std::uint32_t finished_here = 0;
    Backoff backoff;
    for (;;) {
      if (!next) next = claimed.Take();
      if (!next) next = TakeReleased();
      if (!next) {
        Claim(claimed);
        next = claimed.Take();
      }
      if (!next) {
        if (finished_here != 0) {
          if (finished_.fetch_add(finished_here, std::memory_order_seq_cst) + finished_here == n_) {
            Wake();
          }
          finished_here = 0;
        }
        if (finished_.load(std::memory_order_relaxed) == n_) return;
        if (!backoff.Pause()) {
          Sleep();
          backoff.Reset();
        }
        continue;
      }
      backoff.Reset();
      const std::uint32_t txn = *next;
      next.reset();
      Execute(txn, sink);
      ++finished_here;
      // acq_rel: releases this transaction's slot writes to whoever takes a
      // successor's count to zero, and acquires the other predecessors'.
      // The first successor released stays on this thread (no hand-off); the
      // others go where idle workers find them.
      for (std::uint32_t successor : graph_.successors(txn)) {
        if (pending_[successor].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
        if (!next) {
          next = successor;
        } else {
          released.push_back(successor);
        }
      }
      if (!released.empty()) {
        Share(released);
        released.clear();
      }
    }
  }

  // Claims the next chunk of transactions in batch order that no worker has
  // claimed, until one of them is ready (into `claimed`) or none are left. A
  // claimed transaction that is not ready is left to its last predecessor,
  // which runs it when it finishes.
  void Claim(Claimed& claimed) {
    claimed.begin = claimed.end = 0;
    while (claim_cursor_.load(std::memory_order_relaxed) < n_) {
      // 64 bits: the cursor runs past n by up to a chunk per worker.
      const std::uint64_t begin = claim_cursor_.fetch_add(claim_chunk_, std::memory_order_relaxed);
      if (begin >= n_) return;
      const auto end =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(n_, begin + claim_chunk_));
      for (auto txn = static_cast<std::uint32_t>(begin); txn < end; ++txn) {
        if (pending_[txn].fetch_sub(1, std::memory_order_acq_rel) == 1) {
          claimed.txns[claimed.end++] = txn;
        }
      }
      if (claimed.end != 0) return;
    }
  }

  // The shared ready transactions form a min-heap: the lowest index first, as
  // the chains that decide the run's length go through low indices.
  void Share(const std::vector<std::uint32_t>& txns) {
    {
      std::lock_guard lock(released_mu_);
      for (std::uint32_t txn : txns) {
        released_.push_back(txn);
        std::push_heap(released_.begin(), released_.end(), std::greater<>());
      }
      released_size_.store(released_.size(), std::memory_order_relaxed);
    }
    Wake();
  }

  // Work for idle workers appears only in Share (the claim cursor, once used
  // up, stays so; a successor released to its own thread needs no one else)
  // and the batch ends only when finished_ reaches n: both call Wake.
  //
  // No lost wake-up (all seq_cst): a sleeper reads the epoch, counts itself,
  // re-checks, and waits only while the epoch is unchanged. If Wake's epoch
  // increment comes first, the sleeper's re-check sees the new work (or its
  // wait sees a new epoch); if the sleeper's count comes first, Wake sees it
  // and notifies.
  void Wake() {
    wake_epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) != 0) wake_epoch_.notify_all();
  }

  void Sleep() {
    const std::uint32_t epoch = wake_epoch_.load(std::memory_order_seq_cst);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    if (released_size_.load(std::memory_order_seq_cst) == 0 &&
        finished_.load(std::memory_order_seq_cst) != n_) {
      wake_epoch_.wait(epoch, std::memory_order_seq_cst);
    }
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
  }

  std::optional<std::uint32_t> TakeReleased() {
    // A hint only: a stale zero just means this look finds nothing now.
    if (released_size_.load(std::memory_order_relaxed) == 0) return std::nullopt;
    std::lock_guard lock(released_mu_);
    if (released_.empty()) return std::nullopt;
    std::pop_heap(released_.begin(), released_.end(), std::greater<>());
    const std::uint32_t txn = released_.back();
    released_.pop_back();
    released_size_.store(released_.size(), std::memory_order_relaxed);
    return txn;
  }

  WorkerPool& pool_;
  const StateView& base_;
  const std::span<const Transaction> batch_;
  const ExecuteOptions& options_;
  const std::uint32_t n_;
  // Before graph_: Prepare fills it while graph_ is initialised.
  std::vector<std::vector<std::optional<std::string>>> base_values_;
  const ConflictGraph graph_;
  std::vector<Slot> slots_;
  std::vector<TxnResult> results_;

  std::vector<std::atomic<std::uint32_t>> pending_;
  std::uint32_t claim_chunk_ = 1;
  std::atomic<std::uint64_t> claim_cursor_{0};
  std::atomic<std::uint32_t> finished_{0};
  std::mutex released_mu_;
  std::vector<std::uint32_t> released_;
  std::atomic<std::size_t> released_size_{0};
  std::atomic<std::uint32_t> wake_epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
};

}  // namespace

BatchResult RunDeclared(WorkerPool& pool, const StateView& base, std::span<const Transaction> batch,
                        const ExecuteOptions& options) {
  DeclaredBatch run(pool, base, batch, options);
  return run.Run();
}

}  // namespace tri::txn
