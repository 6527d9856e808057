#pragma once

#include <span>

#include "base/status.h"
#include "txn/options.h"
#include "txn/transaction.h"

namespace tri::txn {

// The batch-level bounds: InvalidArgument naming the bound and, where one is
// at fault, the transaction's index. Per-transaction bounds broken while a
// body runs abort that transaction instead (TxnRun).
Status ValidateBatch(std::span<const Transaction> batch, const ExecuteOptions& options);

}  // namespace tri::txn
