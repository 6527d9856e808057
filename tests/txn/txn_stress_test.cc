// Stress for ThreadSanitizer (`make tsan-txn`): many batches through both
// parallel schedulers on 2 to 8 threads, at high contention (2 to 8 keys) and
// low (5,000 to 100,000 keys), batches of up to 300 transactions and a few of
// 2,048 to 6,000, traces on and off, every executor reused across batches and
// schedulers. Each batch must also equal the serial reference, so
// a race that corrupts a result fails here even when TSAN misses it. The
// batches are drawn from tests/txn/batch_gen.h with fixed seeds: a failure
// names the seed, and the test replays it exactly (up to thread timing).
//
// TXN_STRESS_BATCHES sets the batches per test (default 1,000).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "txn/batch_check.h"
#include "txn/batch_gen.h"
#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::txn::testing {
namespace {

constexpr std::size_t kMinStressThreads = 2;
constexpr std::size_t kMaxStressThreads = 8;

std::size_t BatchesPerTest() {
  const char* env = std::getenv("TXN_STRESS_BATCHES");
  if (env == nullptr) return 1000;
  return static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
}

// One executor per thread count for the whole binary.
ParallelExecutor& ExecutorFor(std::size_t threads) {
  static std::vector<std::unique_ptr<ParallelExecutor>> executors = [] {
    std::vector<std::unique_ptr<ParallelExecutor>> built(kMaxStressThreads + 1);
    for (std::size_t t = kMinStressThreads; t <= kMaxStressThreads; ++t) {
      built[t] = std::move(ParallelExecutor::Create(t)).value();
    }
    return built;
  }();
  return *executors[threads];
}

BatchShape HighContention() {
  BatchShape shape;
  shape.max_txns = 300;
  shape.mostly_small = false;
  shape.min_keys = 2;
  shape.max_keys = 8;
  shape.tight_limits_percent = 5;
  return shape;
}

BatchShape LowContention() {
  BatchShape shape;
  shape.max_txns = 300;
  shape.mostly_small = false;
  shape.min_keys = 5'000;
  shape.max_keys = 100'000;
  shape.tight_limits_percent = 5;
  return shape;
}

// Batches of 2,048 to 6,000 transactions: the sizes where the declared
// scheduler builds its conflict graph on every worker and the optimistic one
// may stop speculating and finish serially.
BatchShape Large(std::uint32_t min_keys, std::uint32_t max_keys) {
  BatchShape shape;
  shape.mostly_small = false;
  shape.min_txns = 2048;
  shape.max_txns = 6000;
  shape.min_keys = min_keys;
  shape.max_keys = max_keys;
  shape.tight_limits_percent = 5;
  return shape;
}

// Runs `batches` batches of `shape`, seeds first_seed.., through `scheduler`
// (or, when `alternate`, declared and optimistic in turn on the same
// executors), threads cycling 2..8, traces on for every other batch.
void Stress(const BatchShape& shape, Scheduler scheduler, std::uint64_t first_seed,
            bool alternate = false, std::size_t batches = BatchesPerTest()) {
  const rc::Gen<BatchSpec> gen = GenBatch(shape);
  for (std::size_t b = 0; b < batches; ++b) {
    const std::uint64_t seed = first_seed + b;
    const BatchSpec spec = gen(rc::Random(seed), 100).value();
    const std::size_t threads = kMinStressThreads + b % (kMaxStressThreads - kMinStressThreads + 1);
    const Scheduler run_scheduler =
        alternate ? (b % 2 == 0 ? Scheduler::kDeclared : Scheduler::kOptimistic) : scheduler;
    ExecuteOptions options = OptionsFor(spec, run_scheduler);
    options.trace = (b / 2) % 2 == 1;
    const MapState base = BaseState(spec);
    const std::vector<Transaction> batch = ToBatch(spec);
    ExecuteOptions serial_options = options;
    serial_options.scheduler = Scheduler::kSerial;
    serial_options.enforce_declared = run_scheduler == Scheduler::kDeclared;
    serial_options.trace = false;
    Result<BatchResult> serial = ExecuteSerial(base, batch, serial_options);
    Result<BatchResult> parallel = ExecutorFor(threads).Execute(base, batch, options);
    const std::string where =
        "seed " + std::to_string(seed) + ", " + std::string(SchedulerName(run_scheduler)) + ", " +
        std::to_string(threads) + " threads, trace " + (options.trace ? "on" : "off");
    ASSERT_EQ(serial.ok(), parallel.ok()) << where;
    if (!serial.ok()) continue;
    std::optional<std::string> diff = DiffResults(*serial, *parallel);
    ASSERT_FALSE(diff.has_value()) << where << ": " << *diff;
    if (options.trace) {
      std::optional<std::string> error = CheckTrace(*serial, parallel->trace, threads);
      ASSERT_FALSE(error.has_value()) << where << ": " << *error;
    } else {
      ASSERT_TRUE(parallel->trace.empty()) << where;
    }
  }
}

TEST(TxnStress, DeclaredHighContentionEqualsSerial) {
  Stress(HighContention(), Scheduler::kDeclared, 1'000'000);
}

TEST(TxnStress, DeclaredLowContentionEqualsSerial) {
  Stress(LowContention(), Scheduler::kDeclared, 2'000'000);
}

TEST(TxnStress, OptimisticHighContentionEqualsSerial) {
  Stress(HighContention(), Scheduler::kOptimistic, 3'000'000);
}

TEST(TxnStress, OptimisticLowContentionEqualsSerial) {
  Stress(LowContention(), Scheduler::kOptimistic, 4'000'000);
}

TEST(TxnStress, SchedulersTakingTurnsOnOneExecutorEqualSerial) {
  Stress(HighContention(), Scheduler::kOptimistic, 5'000'000, /*alternate=*/true);
}

// One large batch per 50 small ones.
TEST(TxnStress, LargeBatchesEqualSerial) {
  const std::size_t batches = std::max<std::size_t>(BatchesPerTest() / 50, 4);
  Stress(Large(2, 64), Scheduler::kDeclared, 6'000'000, /*alternate=*/true, batches);
  Stress(Large(5'000, 100'000), Scheduler::kDeclared, 7'000'000, /*alternate=*/true, batches);
}

}  // namespace
}  // namespace tri::txn::testing
