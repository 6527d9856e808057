#pragma once

#include <span>

#include "txn/options.h"
#include "txn/parallel/worker_pool.h"
#include "txn/state_view.h"
#include "txn/transaction.h"
#include "txn/types.h"

namespace tri::txn {

// The declared scheduler (docs/transactions.md): a conflict graph over the
// declared read and write sets, run on `pool` in dependency order.
// REQUIRES: ValidateBatch(batch, options) passed.
BatchResult RunDeclared(WorkerPool& pool, const StateView& base, std::span<const Transaction> batch,
                        const ExecuteOptions& options);

}  // namespace tri::txn
