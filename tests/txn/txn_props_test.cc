// RapidCheck properties: every scheduler, at every thread count from 1 to 16,
// ends a random batch (tests/txn/batch_gen.h) in exactly the results and the
// state the serial reference gives, and a trace shows, per transaction, the
// final execution reading the versions the serial order implies
// (docs/transactions.md, "Proof that parallel equals serial").
//
// ctest runs each property with RC_PARAMS=max_success=N (tests/txn/
// CMakeLists.txt); scripts/txn-soak.sh runs millions more. A failure prints the
// shrunk batch as programs and a reproduce string for RC_PARAMS.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "txn/batch_check.h"
#include "txn/batch_gen.h"
#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::txn::testing {
namespace {

// Built once per thread count and reused by every batch: a pool per batch
// would test thread start-up, not the schedulers, and cost more than the runs.
ParallelExecutor& ExecutorFor(std::size_t threads) {
  static std::array<std::unique_ptr<ParallelExecutor>, kMaxTestThreads + 1> executors;
  RC_ASSERT(threads >= 1 && threads <= kMaxTestThreads);
  if (executors[threads] == nullptr) {
    Result<std::unique_ptr<ParallelExecutor>> created = ParallelExecutor::Create(threads);
    RC_ASSERT(created.ok());
    executors[threads] = std::move(created).value();
  }
  return *executors[threads];
}

// How many batches and transactions this process ran and how they ended
// (the generator's coverage), printed when the test binary ends.
class BatchCounter : public ::testing::Environment {
 public:
  static void Count(Scheduler scheduler, const Result<BatchResult>& serial) {
    ++batches_[static_cast<std::size_t>(scheduler)];
    if (!serial.ok()) {
      ++refused_;
      return;
    }
    for (const TxnResult& txn : serial->txns)
      ++outcomes_[static_cast<std::size_t>(txn.outcome)];
  }
  void SetUp() override { start_ = std::chrono::steady_clock::now(); }
  void TearDown() override {
    if (batches_[0] + batches_[1] + batches_[2] == 0) return;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::cout << "txn_props: " << (batches_[0] + batches_[1] + batches_[2]) << " batches (serial "
              << batches_[0] << ", declared " << batches_[1] << ", optimistic " << batches_[2]
              << "; " << refused_ << " refused) with "
              << (outcomes_[0] + outcomes_[1] + outcomes_[2]) << " transactions (committed "
              << outcomes_[0] << ", aborted " << outcomes_[1] << ", timed out " << outcomes_[2]
              << ") in " << seconds << " s" << std::endl;
  }

 private:
  static inline std::array<std::uint64_t, 3> batches_{};
  static inline std::array<std::uint64_t, 3> outcomes_{};
  static inline std::uint64_t refused_ = 0;
  std::chrono::steady_clock::time_point start_;
};

[[maybe_unused]] const auto* const kCounter = ::testing::AddGlobalTestEnvironment(new BatchCounter);

// Picks at size 100: RapidCheck's size (0..100, growing through a run)
// narrows inRange and friends, which would put most small-size cases on one
// thread and one scheduler. Sizes are the generator's business (GenBatch).
template <typename T>
T Pick(rc::Gen<T> gen) {
  return *rc::gen::resize(100, std::move(gen));
}

rc::Gen<std::size_t> GenThreads() {
  // Half the batches on 1..4 threads (the cores a CI machine has), half on
  // 1..16.
  return rc::gen::weightedOneOf<std::size_t>(
      {{1, rc::gen::inRange<std::size_t>(1, 5)},
       {1, rc::gen::inRange<std::size_t>(1, kMaxTestThreads + 1)}});
}

// The reference for `options`: the serial run, checking declarations when the
// scheduler does.
Result<BatchResult> Reference(const MapState& base, const std::vector<Transaction>& batch,
                              ExecuteOptions options) {
  options.enforce_declared = options.enforce_declared || options.scheduler == Scheduler::kDeclared;
  options.scheduler = Scheduler::kSerial;
  options.trace = false;
  return ExecuteSerial(base, batch, options);
}

// Runs `spec` on `threads` threads with `options` and checks it against the
// serial reference: the same refusal, or the same results byte for byte and
// the same state after. Returns the run for further checks.
struct Compared {
  BatchResult serial;
  BatchResult parallel;
  bool refused = false;
};

Compared RunAndCompare(const BatchSpec& spec, const ExecuteOptions& options, std::size_t threads) {
  const MapState base = BaseState(spec);
  const std::vector<Transaction> batch = ToBatch(spec);
  Result<BatchResult> serial = Reference(base, batch, options);
  Result<BatchResult> parallel = ExecutorFor(threads).Execute(base, batch, options);
  BatchCounter::Count(options.scheduler, serial);
  Compared compared;
  if (!serial.ok()) {
    RC_ASSERT(!parallel.ok());
    RC_ASSERT(parallel.status().code() == serial.status().code());
    RC_ASSERT(parallel.status().message() == serial.status().message());
    compared.refused = true;
    return compared;
  }
  if (!parallel.ok()) RC_FAIL("refused where serial ran: " + parallel.status().ToString());
  if (std::optional<std::string> diff = DiffResults(*serial, *parallel)) RC_FAIL(*diff);
  MapState serial_state = base;
  serial_state.Apply(*serial);
  MapState parallel_state = base;
  parallel_state.Apply(*parallel);
  RC_ASSERT(parallel_state.entries() == serial_state.entries());
  if (!options.trace) RC_ASSERT(parallel->trace.empty());
  compared.serial = std::move(serial).value();
  compared.parallel = std::move(parallel).value();
  return compared;
}

RC_GTEST_PROP(TxnProps, SerialSchedulerEqualsReference, ()) {
  const BatchSpec spec = *GenBatch();
  const std::size_t threads = Pick(GenThreads());
  RunAndCompare(spec, OptionsFor(spec, Scheduler::kSerial), threads);
}

RC_GTEST_PROP(TxnProps, DeclaredEqualsSerialEnforcingDeclarations, ()) {
  const BatchSpec spec = *GenBatch();
  const std::size_t threads = Pick(GenThreads());
  RunAndCompare(spec, OptionsFor(spec, Scheduler::kDeclared), threads);
}

RC_GTEST_PROP(TxnProps, OptimisticEqualsSerial, ()) {
  const BatchSpec spec = *GenBatch();
  const std::size_t threads = Pick(GenThreads());
  ExecuteOptions options = OptionsFor(spec, Scheduler::kOptimistic);
  // The optimistic scheduler ignores declarations unless asked to enforce them.
  options.enforce_declared = Pick(rc::gen::weightedElement<bool>({{4, false}, {1, true}}));
  RunAndCompare(spec, options, threads);
}

RC_GTEST_PROP(TxnProps, TraceShowsFinalExecutionsReadingSerialVersions, ()) {
  const BatchSpec spec = *GenBatch();
  const std::size_t threads = Pick(GenThreads());
  // 0 serial, 1 declared, 2 optimistic (shown as a number).
  const auto scheduler = static_cast<Scheduler>(Pick(rc::gen::inRange<std::uint8_t>(0, 3)));
  ExecuteOptions options = OptionsFor(spec, scheduler);
  options.trace = true;
  Compared compared = RunAndCompare(spec, options, threads);
  if (compared.refused) return;
  if (std::optional<std::string> error =
          CheckTrace(compared.serial, compared.parallel.trace, threads)) {
    RC_FAIL(*error);
  }
}

}  // namespace
}  // namespace tri::txn::testing
