#pragma once

// The executor that uses every core: one worker pool, the scheduler chosen per
// batch (ExecuteOptions::scheduler). Same contract as SerialExecutor
// (txn/executor.h): the result equals the serial run's.

#include <memory>
#include <span>

#include "base/result.h"
#include "txn/executor.h"
#include "txn/parallel/worker_pool.h"

namespace tri::txn {

class ParallelExecutor final : public BatchExecutor {
 public:
  // InvalidArgument unless 1 <= threads <= kMaxThreads.
  static Result<std::unique_ptr<ParallelExecutor>> Create(std::size_t threads);

  Result<BatchResult> Execute(const StateView& base, std::span<const Transaction> batch,
                              const ExecuteOptions& options) override;

  std::size_t threads() const { return pool_.size(); }

 private:
  explicit ParallelExecutor(std::size_t threads) : pool_(threads) {}
  WorkerPool pool_;
};

}  // namespace tri::txn
