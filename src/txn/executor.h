#pragma once

// The one interface every scheduler is reached through (docs/transactions.md).
// Contract: Execute returns exactly what running the batch's transactions one
// by one in batch order over `base` returns (SerialExecutor), whatever the
// scheduler and the number of threads; `base` is not modified.

#include <span>

#include "base/result.h"
#include "txn/options.h"
#include "txn/state_view.h"
#include "txn/trace_sink.h"
#include "txn/transaction.h"
#include "txn/types.h"

namespace tri::txn {

class BatchExecutor {
 public:
  virtual ~BatchExecutor() = default;
  virtual Result<BatchResult> Execute(const StateView& base, std::span<const Transaction> batch,
                                      const ExecuteOptions& options) = 0;
};

// The serial reference: pure, on the calling thread, whatever
// options.scheduler says (a declared-set batch is checked against its
// declarations when options.scheduler is kDeclared or options
// enforce_declared is set). Events go to `trace` when options.trace is set and
// a sink is given.
Result<BatchResult> ExecuteSerial(const StateView& base, std::span<const Transaction> batch,
                                  const ExecuteOptions& options, TraceSink* trace = nullptr);

class SerialExecutor final : public BatchExecutor {
 public:
  Result<BatchResult> Execute(const StateView& base, std::span<const Transaction> batch,
                              const ExecuteOptions& options) override {
    return ExecuteSerial(base, batch, options);
  }
};

}  // namespace tri::txn
