#pragma once

#include <cstdint>
#include <span>

#include "txn/options.h"
#include "txn/parallel/worker_pool.h"
#include "txn/state_view.h"
#include "txn/transaction.h"
#include "txn/types.h"

namespace tri::txn {

// How the optimistic scheduler decides that speculation does not pay. The
// defaults suit every batch; tests change them to force or forbid the serial
// finish.
struct OptimisticTuning {
  // Stop speculating and finish the batch serially on the calling thread when
  // the executions so far show that speculation does not pay: at total
  // contention most speculative executions are wasted, and validating and
  // re-executing costs more than running in order.
  bool serial_fallback = true;
  // Executions (all workers) before the first judgement.
  std::uint64_t fallback_min_executions = 256;
  // A worker judges after every this many of its own executions.
  std::uint64_t fallback_check_every = 16;
  // Falls back when the estimated speedup over a serial run, so far, is below
  // this: the bodies' running time (less the share of executions that failed
  // validation or stopped on a dependency) over the time elapsed. Small
  // transactions on few threads lose to the cost of the multi-version memory
  // and the scheduler; large ones, or many threads, win.
  double fallback_min_speedup = 1.0;
};

// The optimistic scheduler (docs/transactions.md): Block-STM style
// multi-version memory, speculative execution, read-set validation and
// re-execution, with a collaborative scheduler on `pool`. The result equals
// ExecuteSerial's whatever the tuning.
// REQUIRES: ValidateBatch(batch, options) passed.
BatchResult RunOptimistic(WorkerPool& pool, const StateView& base,
                          std::span<const Transaction> batch, const ExecuteOptions& options,
                          const OptimisticTuning& tuning = {});

}  // namespace tri::txn
