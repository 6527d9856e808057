#include "txn/parallel/parallel_executor.h"

#include <fmt/format.h>

#include "txn/parallel/declared_scheduler.h"
#include "txn/parallel/optimistic_scheduler.h"
#include "txn/parallel/trace_buffer.h"
#include "txn/validate.h"

namespace tri::txn {

Result<std::unique_ptr<ParallelExecutor>> ParallelExecutor::Create(std::size_t threads) {
  if (threads < 1 || threads > kMaxThreads) {
    return InvalidArgument(fmt::format("threads {} must be in 1..{}", threads, kMaxThreads));
  }
  return std::unique_ptr<ParallelExecutor>(new ParallelExecutor(threads));
}

Result<BatchResult> ParallelExecutor::Execute(const StateView& base,
                                              std::span<const Transaction> batch,
                                              const ExecuteOptions& options) {
  if (Status status = ValidateBatch(batch, options); !status.ok()) return status;
  switch (options.scheduler) {
    case Scheduler::kSerial: {
      TraceBuffers traces(1, options.trace);
      Result<BatchResult> result = ExecuteSerial(base, batch, options, traces.sink(0));
      if (result.ok()) result->trace = traces.Merge();
      return result;
    }
    case Scheduler::kDeclared:
      return RunDeclared(pool_, base, batch, options);
    case Scheduler::kOptimistic:
      return RunOptimistic(pool_, base, batch, options);
  }
  return Unimplemented(
      fmt::format("scheduler {} is not built yet", SchedulerName(options.scheduler)));
}

}  // namespace tri::txn
