#include "txn/parallel/optimistic_scheduler.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <unordered_map>

#include "base/assert.h"
#include "txn/executor.h"
#include "txn/parallel/block_stm_scheduler.h"
#include "txn/parallel/mv_memory.h"
#include "txn/parallel/trace_buffer.h"
#include "txn/txn_run.h"

namespace tri::txn {

namespace {

using Task = BlockStmScheduler::Task;

// Shards per worker of the multi-version memory: enough that two workers
// rarely want the same shard mutex unless they want the same key; no more
// than the batch has transactions (a small batch needs few).
constexpr std::size_t kShardsPerWorker = 64;
constexpr std::size_t kMinShards = 16;

std::size_t ShardCount(std::size_t workers, std::size_t txns) {
  return std::max(kMinShards, std::min(workers * kShardsPerWorker, txns));
}

// One incarnation: reads below the transaction come from the multi-version
// memory, or the base state where no lower transaction wrote the key.
class OptimisticRun final : public TxnRun {
 public:
  OptimisticRun(std::uint32_t index, std::uint32_t incarnation, const Transaction& txn,
                const ExecuteOptions& options, TraceSink* trace, const MvMemory& memory,
                const StateView& base)
      : TxnRun(index, incarnation, txn, options.limits, options.enforce_declared, trace),
        index_(index),
        memory_(memory),
        base_(base) {}

  // The cell each recorded read found, in the order of reads() (TxnRun records
  // a read exactly when ReadBelow does not ask it to wait).
  const std::vector<const MvMemory::Cell*>& read_cells() const { return read_cells_; }

 protected:
  Below ReadBelow(std::string_view key) override {
    MvMemory::Lookup lookup = memory_.Read(key, index_, /*want_value=*/true);
    if (lookup.found != MvMemory::Found::kEstimate) read_cells_.push_back(lookup.cell);
    switch (lookup.found) {
      case MvMemory::Found::kStorage:
        return Below{base_.Get(key), Version{}};
      case MvMemory::Found::kValue:
        return Below{std::move(lookup.value), lookup.version};
      case MvMemory::Found::kEstimate:
        return Below{std::nullopt, lookup.version, /*must_wait=*/true, lookup.version.txn};
    }
    TRI_UNREACHABLE();
  }

 private:
  std::vector<const MvMemory::Cell*> read_cells_;
  const std::uint32_t index_;
  const MvMemory& memory_;
  const StateView& base_;
};

// The serial finish: transactions from some index up run in batch order on
// one thread, over an overlay that starts as the final state below that index
// (taken from the multi-version memory) and takes each one's writes.
class TailRun final : public TxnRun {
 public:
  struct Written {
    std::optional<std::string> value;
    Version version;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  using Overlay = std::unordered_map<std::string, Written, KeyHash, std::equal_to<>>;

  TailRun(std::uint32_t index, std::uint32_t incarnation, const Transaction& txn,
          const ExecuteOptions& options, TraceSink* trace, const Overlay& overlay,
          const StateView& base)
      : TxnRun(index, incarnation, txn, options.limits, options.enforce_declared, trace),
        overlay_(overlay),
        base_(base) {}

 protected:
  Below ReadBelow(std::string_view key) override {
    if (auto it = overlay_.find(key); it != overlay_.end()) {
      return Below{it->second.value, it->second.version};
    }
    return Below{base_.Get(key), Version{}};
  }

 private:
  const Overlay& overlay_;
  const StateView& base_;
};

// Everything the workers of one batch share.
class OptimisticBatch {
 public:
  OptimisticBatch(const StateView& base, std::span<const Transaction> batch,
                  const ExecuteOptions& options, const OptimisticTuning& tuning,
                  std::size_t workers)
      : base_(base),
        batch_(batch),
        options_(options),
        tuning_(tuning),
        memory_(static_cast<std::uint32_t>(batch.size()), ShardCount(workers, batch.size())),
        scheduler_(static_cast<std::uint32_t>(batch.size())),
        results_(batch.size()),
        stats_(workers),
        traces_(workers, options.trace) {}

  // One worker's share: the paper's loop. Each task may hand back a follow-up
  // task (a validation after an execution, a re-execution after an abort),
  // which runs without going back to the shared counters. After a fallback
  // the workers leave as soon as their current task is finished (a follow-up
  // is dropped: the serial finish redoes whatever is not validated).
  void Work(std::uint32_t worker) {
    TraceSink* sink = traces_.sink(worker);
    WorkerStats& stats = stats_[worker];
    Task task;
    while (!scheduler_.done() && !fallen_back_.load(std::memory_order_relaxed)) {
      if (task.kind == Task::Kind::kExecute) {
        task = Execute(task, sink, stats);
      } else if (task.kind == Task::Kind::kValidate) {
        task = Validate(task, sink, stats);
      }
      if (task.kind == Task::Kind::kNone) {
        task = scheduler_.NextTask();
        // Nothing to do until another worker finishes something: give up
        // the core rather than spin on the counters.
        if (task.kind == Task::Kind::kNone) std::this_thread::yield();
      }
    }
    // Done (not fallen back): no task is left, so nobody reads the memory
    // any more; share its teardown instead of leaving it to one thread.
    if (scheduler_.done() && !fallen_back_.load()) memory_.Release(worker, stats_.size());
  }

  bool fallen_back() const { return fallen_back_.load(); }

  // After the workers returned, when they fell back: keeps the longest prefix
  // of transactions whose last execution still validates, in order (each is
  // then the serial one: everything below it is final and it read exactly
  // that), and runs the rest one by one.
  void FinishSerially() {
    // Worker 0 is the calling thread, which runs the finish.
    TraceSink* sink = traces_.sink(0);
    const auto count = static_cast<std::uint32_t>(batch_.size());
    std::uint32_t first = 0;
    for (; first < count; ++first) {
      const BlockStmScheduler::Latest latest = scheduler_.LatestOf(first);
      if (!latest.executed) break;
      if (!memory_.ValidateReads(first)) {
        TraceValidationFailed(sink, first, latest.incarnation);
        break;
      }
    }
    if (first == count) return;
    // Below `first` every transaction's last execution is final, so each
    // key's highest version there is its serial value.
    TailRun::Overlay overlay;
    memory_.ForEachBelow(first, [&overlay](const std::string& key, MvMemory::Lookup lookup) {
      TRI_ASSERT_MSG(lookup.found == MvMemory::Found::kValue,
                     "below the serial finish every write is final");
      overlay.emplace(key, TailRun::Written{std::move(lookup.value), lookup.version});
    });
    for (std::uint32_t txn = first; txn < count; ++txn) {
      const std::uint32_t incarnation = scheduler_.LatestOf(txn).incarnation + 1;
      TailRun run(txn, incarnation, batch_[txn], options_, sink, overlay, base_);
      run.Run();
      TRI_ASSERT_MSG(!run.must_wait(), "a serial read never waits");
      TxnResult result = run.TakeResult();
      for (const KeyWrite& write : result.writes) {
        overlay.insert_or_assign(write.key,
                                 TailRun::Written{write.value, Version{txn, incarnation}});
      }
      results_[txn] = std::move(result);
    }
  }

  BatchResult TakeResult() {
    BatchResult result;
    result.txns = std::move(results_);
    result.trace = traces_.Merge();
    return result;
  }

 private:
  // Per worker, written only by its worker; summed by any worker to judge
  // whether speculation pays.
  struct alignas(64) WorkerStats {
    std::atomic<std::uint64_t> executions{0};
    std::atomic<std::uint64_t> wasted{0};
    // Time spent inside bodies (TxnRun::Run), all executions.
    std::atomic<std::uint64_t> body_ns{0};
    static void Add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) {
      counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
    }
  };

  static std::uint64_t NowNs() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now().time_since_epoch())
                                          .count());
  }

  void CountExecution(WorkerStats& stats, bool wasted, std::uint64_t body_ns) {
    WorkerStats::Add(stats.executions);
    WorkerStats::Add(stats.body_ns, body_ns);
    if (wasted) WorkerStats::Add(stats.wasted);
    if (tuning_.serial_fallback &&
        stats.executions.load(std::memory_order_relaxed) %
                std::max<std::uint64_t>(tuning_.fallback_check_every, 1) ==
            0 &&
        SpeculationDoesNotPay()) {
      fallen_back_.store(true, std::memory_order_relaxed);
    }
  }

  // Estimates the speedup so far: the time a serial run would have spent on
  // the work done (the bodies' time, less the share of wasted executions)
  // over the time this run took. Bodies dominate the serial run, so this
  // leans towards going on in parallel. The estimate only picks the path: the
  // result is the same either way.
  bool SpeculationDoesNotPay() const {
    std::uint64_t executions = 0;
    std::uint64_t wasted = 0;
    std::uint64_t body_ns = 0;
    for (const WorkerStats& stats : stats_) {
      executions += stats.executions.load(std::memory_order_relaxed);
      wasted += stats.wasted.load(std::memory_order_relaxed);
      body_ns += stats.body_ns.load(std::memory_order_relaxed);
    }
    if (executions == 0 || executions < tuning_.fallback_min_executions) return false;
    const std::uint64_t elapsed_ns = std::max<std::uint64_t>(NowNs() - start_ns_, 1);
    const double useful_share =
        1.0 - static_cast<double>(std::min(wasted, executions)) / static_cast<double>(executions);
    const double speedup =
        static_cast<double>(body_ns) * useful_share / static_cast<double>(elapsed_ns);
    return speedup < tuning_.fallback_min_speedup;
  }

  static void TraceValidationFailed(TraceSink* sink, std::uint32_t txn, std::uint32_t incarnation) {
    if (sink == nullptr) return;
    TraceEvent event;
    event.txn = txn;
    event.incarnation = incarnation;
    event.kind = TraceKind::kAbort;
    event.key = "validation failed";
    sink->Record(std::move(event));
  }

  Task Execute(Task task, TraceSink* sink, WorkerStats& stats) {
    const std::uint32_t txn = task.txn;
    std::uint32_t incarnation = task.incarnation;
    for (;;) {
      OptimisticRun run(txn, incarnation, batch_[txn], options_, sink, memory_, base_);
      const std::uint64_t started_ns = NowNs();
      run.Run();
      CountExecution(stats, run.must_wait(), NowNs() - started_ns);
      if (run.must_wait()) {
        if (scheduler_.AddDependency(txn, run.blocking_txn())) return {};
        // The blocking transaction finished in between: its new value is
        // there to read now.
        incarnation = scheduler_.RetryIncarnation(txn);
        continue;
      }
      const std::vector<TxnRun::ReadRecord>& records = run.reads();
      TRI_ASSERT(records.size() == run.read_cells().size());
      MvMemory::ReadSet reads;
      reads.reserve(records.size());
      for (std::size_t i = 0; i < records.size(); ++i) {
        reads.push_back(MvMemory::ReadKey{records[i].key, records[i].version, run.read_cells()[i]});
      }
      TxnResult result = run.TakeResult();
      const bool wrote_new_location =
          memory_.Record(txn, incarnation, result.writes, std::move(reads));
      results_[txn] = std::move(result);
      return scheduler_.FinishExecution(txn, incarnation, wrote_new_location);
    }
  }

  Task Validate(Task task, TraceSink* sink, WorkerStats& stats) {
    const bool valid = memory_.ValidateReads(task.txn);
    const bool aborted = !valid && scheduler_.TryValidationAbort(task.txn, task.incarnation);
    if (aborted) {
      TraceValidationFailed(sink, task.txn, task.incarnation);
      memory_.MarkEstimates(task.txn);
      stats.Add(stats.wasted);
    }
    return scheduler_.FinishValidation(task.txn, aborted);
  }

  const StateView& base_;
  const std::span<const Transaction> batch_;
  const ExecuteOptions& options_;
  const OptimisticTuning& tuning_;
  MvMemory memory_;
  BlockStmScheduler scheduler_;
  // The latest execution's result per transaction; written only by the
  // execution the scheduler hands out, read after every worker returned.
  std::vector<TxnResult> results_;
  std::vector<WorkerStats> stats_;
  std::atomic<bool> fallen_back_{false};
  const std::uint64_t start_ns_ = NowNs();
  TraceBuffers traces_;
};

}  // namespace

BatchResult RunOptimistic(WorkerPool& pool, const StateView& base,
                          std::span<const Transaction> batch, const ExecuteOptions& options,
                          const OptimisticTuning& tuning) {
  if (pool.size() == 1 || batch.size() <= 1) {
    // Nothing to overlap: the serial reference costs no speculation.
    TraceBuffers traces(1, options.trace);
    Result<BatchResult> result = ExecuteSerial(base, batch, options, traces.sink(0));
    TRI_ASSERT_MSG(result.ok(), "RunOptimistic requires a batch that passed ValidateBatch");
    result->trace = traces.Merge();
    return std::move(*result);
  }
  OptimisticBatch run(base, batch, options, tuning, pool.size());
  pool.Run([&run](std::uint32_t worker) { run.Work(worker); });
  // Worker 0 is the calling thread: its trace buffer is free again.
  if (run.fallen_back()) run.FinishSerially();
  return run.TakeResult();
}

}  // namespace tri::txn
