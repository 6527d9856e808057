#pragma once

#include <span>

#include "txn/options.h"
#include "txn/parallel/worker_pool.h"
#include "txn/state_view.h"
#include "txn/transaction.h"
#include "txn/types.h"

namespace tri::txn {

// The optimistic scheduler (docs/transactions.md): Block-STM style
// multi-version memory, speculative execution, read-set validation and
// re-execution, with a collaborative scheduler on `pool`.
// REQUIRES: ValidateBatch(batch, options) passed.
BatchResult RunOptimistic(WorkerPool& pool, const StateView& base,
                          std::span<const Transaction> batch, const ExecuteOptions& options);

}  // namespace tri::txn
