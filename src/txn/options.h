#pragma once

// Bounds and per-batch choices of the executors (docs/transactions.md).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tri::txn {

// Every bound is enforced: a batch that breaks a batch-level bound is refused
// with InvalidArgument before anything runs; a transaction that breaks a
// per-transaction bound is aborted with a reason naming the bound (the same
// in every scheduler, so the result stays serial-equivalent).
struct TxnLimits {
  std::size_t max_batch_size = 100'000;
  // Keys read (from below the transaction) plus keys written, per transaction;
  // for the declared scheduler also the size of read_set plus write_set.
  std::size_t max_keys_per_txn = 10'000;
  std::size_t max_key_size = 4096;
  std::size_t max_value_size = 1 << 20;
  // Gas: a deterministic step count that stands for time (wall time differs
  // between replicas and between runs, so it cannot decide an outcome).
  std::uint64_t default_gas_budget = 1'000'000;
  std::uint64_t max_gas_budget = 1'000'000'000;
  std::uint64_t read_gas = 1;
  std::uint64_t write_gas = 1;
};

enum class Scheduler : std::uint8_t {
  // One by one in batch order on the calling thread: the reference.
  kSerial = 0,
  // Read and write sets declared up front; a conflict graph orders them.
  kDeclared = 1,
  // Sets unknown; Block-STM style speculation and validation.
  kOptimistic = 2,
};

std::string_view SchedulerName(Scheduler scheduler);

struct ExecuteOptions {
  Scheduler scheduler = Scheduler::kOptimistic;
  TxnLimits limits;
  // Check every access against the transactions' declared sets (always on for
  // kDeclared): run the serial reference this way to compare with kDeclared.
  bool enforce_declared = false;
  // Record a trace (BatchResult::trace). Off costs one predictable branch per
  // event.
  bool trace = false;
};

// The most worker threads an executor may be built with.
inline constexpr std::size_t kMaxThreads = 256;

}  // namespace tri::txn
