#include "txn/parallel/declared_scheduler.h"

#include <atomic>
#include <cstdint>
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
// Fewer distinct keys than this are read from the base on the calling thread;
// more are spread over the workers.
constexpr std::uint32_t kParallelPreloadKeys = 4096;
constexpr std::uint32_t kPreloadChunk = 256;

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

class DeclaredRun final : public TxnRun {
 public:
  DeclaredRun(std::uint32_t index, const Transaction& txn, const TxnLimits& limits,
              TraceSink* trace, const ConflictGraph& graph, const std::vector<Slot>& slots)
      : TxnRun(index, /*incarnation=*/0, txn, limits, /*enforce_declared=*/true, trace),
        graph_(graph),
        slots_(slots) {}

 protected:
  // TxnRun checked the key against the declared sets, so it has a slot.
  Below ReadBelow(std::string_view key) override {
    std::optional<std::uint32_t> slot = graph_.FindSlot(key);
    TRI_ASSERT_MSG(slot.has_value(), "a declared key has a slot");
    const Slot& latest = slots_[*slot];
    return Below{*latest.value, Version{latest.writer, 0}};
  }

 private:
  const ConflictGraph& graph_;
  const std::vector<Slot>& slots_;
};

// Spin briefly, then give the core away: waiting workers must not starve the
// ones running transactions when threads outnumber cores.
class Backoff {
 public:
  void Pause() {
    if (spins_ < kSpins) {
      ++spins_;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
  void Reset() {
    spins_ = 0;
  }

 private:
  static constexpr int kSpins = 64;
  int spins_ = 0;
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
        graph_(ConflictGraph::Build(batch, options.limits.max_keys_per_txn)),
        base_values_(graph_.key_count()),
        slots_(graph_.key_count()),
        results_(batch.size()) {}

  BatchResult Run() {
    BatchResult result;
    if (RunsAlone()) {
      TraceBuffers traces(1, options_.trace);
      Preload(1);
      for (std::uint32_t i = 0; i < n_; ++i)
        Execute(i, traces.sink(0));
      result.trace = traces.Merge();
    } else {
      TraceBuffers traces(pool_.size(), options_.trace);
      if (graph_.key_count() >= kParallelPreloadKeys) {
        pool_.Run([&](std::uint32_t /*worker*/) { Preload(pool_.size()); });
      } else {
        Preload(1);
      }
      RunParallel(traces);
      result.trace = traces.Merge();
    }
    result.txns = std::move(results_);
    return result;
  }

 private:
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

  // Reads every declared key's base value. Run by each of `workers` threads at
  // once, which take chunks of slots from a shared cursor.
  void Preload(std::size_t workers) {
    const std::uint32_t keys = graph_.key_count();
    if (workers == 1) {
      for (std::uint32_t slot = 0; slot < keys; ++slot)
        LoadSlot(slot);
      return;
    }
    for (;;) {
      const std::uint32_t begin =
          preload_cursor_.fetch_add(kPreloadChunk, std::memory_order_relaxed);
      if (begin >= keys) return;
      const std::uint32_t end = std::min(keys, begin + kPreloadChunk);
      for (std::uint32_t slot = begin; slot < end; ++slot)
        LoadSlot(slot);
    }
  }

  void LoadSlot(std::uint32_t slot) {
    base_values_[slot] = base_.Get(graph_.key(slot));
    slots_[slot] = Slot{&base_values_[slot], Version::kStorage};
  }

  // Runs transaction `txn` (its predecessors have all finished) and publishes
  // its committed writes to the slots.
  void Execute(std::uint32_t txn, TraceSink* sink) {
    DeclaredRun run(txn, batch_[txn], options_.limits, sink, graph_, slots_);
    run.Run();
    TRI_ASSERT_MSG(!run.must_wait(), "a declared-set read never waits");
    results_[txn] = run.TakeResult();
    for (const KeyWrite& write : results_[txn].writes) {
      std::optional<std::uint32_t> slot = graph_.FindSlot(write.key);
      TRI_ASSERT_MSG(slot.has_value(), "a committed write is to a declared key");
      slots_[*slot] = Slot{&write.value, txn};
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
    pool_.Run([&](std::uint32_t worker) { Work(traces.sink(worker)); });
    TRI_ASSERT(finished_.load(std::memory_order_relaxed) == n_);
  }

  void Work(TraceSink* sink) {
    std::optional<std::uint32_t> next;
    std::vector<std::uint32_t> released;
    Backoff backoff;
    for (;;) {
      if (!next) next = TakeReleased();
      if (!next) next = Claim();
      if (!next) {
        if (finished_.load(std::memory_order_acquire) == n_) return;
        backoff.Pause();
        continue;
      }
      backoff.Reset();
      const std::uint32_t txn = *next;
      next.reset();
      Execute(txn, sink);
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
      finished_.fetch_add(1, std::memory_order_release);
    }
  }

  // The next transaction in batch order no worker has claimed, if it is ready;
  // otherwise its last predecessor runs it when it finishes.
  std::optional<std::uint32_t> Claim() {
    while (claim_cursor_.load(std::memory_order_relaxed) < n_) {
      const std::uint32_t txn = claim_cursor_.fetch_add(1, std::memory_order_relaxed);
      if (txn >= n_) break;
      if (pending_[txn].fetch_sub(1, std::memory_order_acq_rel) == 1) return txn;
    }
    return std::nullopt;
  }

  void Share(const std::vector<std::uint32_t>& txns) {
    std::lock_guard lock(released_mu_);
    released_.insert(released_.end(), txns.begin(), txns.end());
    released_size_.store(released_.size(), std::memory_order_relaxed);
  }

  std::optional<std::uint32_t> TakeReleased() {
    // A hint only: a stale zero just means this look finds nothing now.
    if (released_size_.load(std::memory_order_relaxed) == 0) return std::nullopt;
    std::lock_guard lock(released_mu_);
    if (released_.empty()) return std::nullopt;
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
  const ConflictGraph graph_;
  std::vector<std::optional<std::string>> base_values_;
  std::vector<Slot> slots_;
  std::vector<TxnResult> results_;

  std::atomic<std::uint32_t> preload_cursor_{0};
  std::vector<std::atomic<std::uint32_t>> pending_;
  std::atomic<std::uint32_t> claim_cursor_{0};
  std::atomic<std::uint32_t> finished_{0};
  std::mutex released_mu_;
  std::vector<std::uint32_t> released_;
  std::atomic<std::size_t> released_size_{0};
};

}  // namespace

BatchResult RunDeclared(WorkerPool& pool, const StateView& base, std::span<const Transaction> batch,
                        const ExecuteOptions& options) {
  DeclaredBatch run(pool, base, batch, options);
  return run.Run();
}

}  // namespace tri::txn
