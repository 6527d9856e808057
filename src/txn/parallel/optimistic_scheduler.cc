#include "txn/parallel/optimistic_scheduler.h"

#include <algorithm>
#include <thread>

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
// rarely want the same shard mutex unless they want the same key.
constexpr std::size_t kShardsPerWorker = 64;

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

 protected:
  Below ReadBelow(std::string_view key) override {
    MvMemory::Lookup lookup = memory_.Read(key, index_, /*want_value=*/true);
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
  const std::uint32_t index_;
  const MvMemory& memory_;
  const StateView& base_;
};

// Everything the workers of one batch share.
class OptimisticBatch {
 public:
  OptimisticBatch(const StateView& base, std::span<const Transaction> batch,
                  const ExecuteOptions& options, std::size_t workers)
      : base_(base),
        batch_(batch),
        options_(options),
        memory_(static_cast<std::uint32_t>(batch.size()), workers * kShardsPerWorker),
        scheduler_(static_cast<std::uint32_t>(batch.size())),
        results_(batch.size()),
        traces_(workers, options.trace) {}

  // One worker's share: the paper's loop. Each task may hand back a follow-up
  // task (a validation after an execution, a re-execution after an abort),
  // which runs without going back to the shared counters.
  void Work(std::uint32_t worker) {
    TraceSink* sink = traces_.sink(worker);
    Task task;
    while (!scheduler_.done()) {
      if (task.kind == Task::Kind::kExecute) {
        task = Execute(task, sink);
      } else if (task.kind == Task::Kind::kValidate) {
        task = Validate(task, sink);
      }
      if (task.kind == Task::Kind::kNone) {
        task = scheduler_.NextTask();
        // Nothing to do until another worker finishes something: give up
        // the core rather than spin on the counters.
        if (task.kind == Task::Kind::kNone) std::this_thread::yield();
      }
    }
  }

  BatchResult TakeResult() {
    BatchResult result;
    result.txns = std::move(results_);
    result.trace = traces_.Merge();
    return result;
  }

 private:
  Task Execute(Task task, TraceSink* sink) {
    const std::uint32_t txn = task.txn;
    std::uint32_t incarnation = task.incarnation;
    for (;;) {
      OptimisticRun run(txn, incarnation, batch_[txn], options_, sink, memory_, base_);
      run.Run();
      if (run.must_wait()) {
        if (scheduler_.AddDependency(txn, run.blocking_txn())) return {};
        // The blocking transaction finished in between: its new value is
        // there to read now.
        incarnation = scheduler_.RetryIncarnation(txn);
        continue;
      }
      ReadSet reads;
      reads.reserve(run.reads().size());
      for (const TxnRun::ReadRecord& read : run.reads()) {
        reads.push_back(ReadKey{read.key, read.version});
      }
      TxnResult result = run.TakeResult();
      const bool wrote_new_location =
          memory_.Record(txn, incarnation, result.writes, std::move(reads));
      results_[txn] = std::move(result);
      return scheduler_.FinishExecution(txn, incarnation, wrote_new_location);
    }
  }

  Task Validate(Task task, TraceSink* sink) {
    const bool valid = memory_.ValidateReads(task.txn);
    const bool aborted = !valid && scheduler_.TryValidationAbort(task.txn, task.incarnation);
    if (aborted) {
      if (sink != nullptr) {
        TraceEvent event;
        event.txn = task.txn;
        event.incarnation = task.incarnation;
        event.kind = TraceKind::kAbort;
        event.key = "validation failed";
        sink->Record(std::move(event));
      }
      memory_.MarkEstimates(task.txn);
    }
    return scheduler_.FinishValidation(task.txn, aborted);
  }

  const StateView& base_;
  const std::span<const Transaction> batch_;
  const ExecuteOptions& options_;
  MvMemory memory_;
  BlockStmScheduler scheduler_;
  // The latest execution's result per transaction; written only by the
  // execution the scheduler hands out, read after every worker returned.
  std::vector<TxnResult> results_;
  TraceBuffers traces_;
};

}  // namespace

BatchResult RunOptimistic(WorkerPool& pool, const StateView& base,
                          std::span<const Transaction> batch, const ExecuteOptions& options) {
  if (pool.size() == 1 || batch.size() <= 1) {
    // Nothing to overlap: the serial reference costs no speculation.
    TraceBuffers traces(1, options.trace);
    Result<BatchResult> result = ExecuteSerial(base, batch, options, traces.sink(0));
    TRI_ASSERT_MSG(result.ok(), "RunOptimistic requires a batch that passed ValidateBatch");
    result->trace = traces.Merge();
    return std::move(*result);
  }
  OptimisticBatch run(base, batch, options, pool.size());
  pool.Run([&run](std::uint32_t worker) { run.Work(worker); });
  return run.TakeResult();
}

}  // namespace tri::txn
