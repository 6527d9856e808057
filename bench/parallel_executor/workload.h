#pragma once

// The batches bench_parallel_executor runs, built deterministically from a
// seed (bench/README.md). Balances are 8-byte fixed64 values under keys
// "acct/NNNNNN"; every account starts with kInitialBalance, so no transfer in a
// batch ever runs out of funds and every transaction commits.

#include <cstdint>
#include <string>
#include <vector>

#include "txn/state_view.h"
#include "txn/transaction.h"

namespace tri::txn::bench {

inline constexpr std::uint64_t kInitialBalance = 1'000'000'000;
inline constexpr std::uint64_t kMaxTransfer = 100;

enum class WorkloadKind : std::uint8_t {
  // The Block-STM paper's peer-to-peer transfers: read two balances, write two.
  kP2P,
  // check_percent of the transactions are balance checks: they read
  // reads_per_txn distinct balances and write one receipt key of their own
  // (so no other transaction conflicts with the write); the rest are p2p
  // transfers.
  kReadHeavy,
};

struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::kP2P;
  std::uint32_t accounts = 10'000;
  std::uint32_t txns = 10'000;
  // Rounds of a multiply-xorshift mix per transaction, charged as gas: stands
  // for the VM execution of a real transaction (0: the bare workload).
  std::uint64_t compute_rounds = 0;
  std::uint32_t check_percent = 90;
  std::uint32_t reads_per_txn = 4;
  std::uint64_t seed = 1;
};

struct Workload {
  WorkloadSpec spec;
  // "p2p" or "read-heavy".
  std::string name;
  MapState base;
  // Declared sets are exact: a transfer declares its two accounts as its write
  // set (a written key may be read), a balance check its accounts as its read
  // set and its receipt as its write set.
  std::vector<Transaction> batch;
};

// REQUIRES: spec.accounts >= 2 and spec.txns >= 1.
Workload MakeWorkload(const WorkloadSpec& spec);

std::string AccountKey(std::uint32_t account);
// Where balance check `txn` (its batch index) records its result.
std::string ReceiptKey(std::uint32_t txn);

// The deterministic stand-in for VM work: `rounds` dependent multiply-xorshift
// steps starting from `x` (returns x when rounds is 0).
std::uint64_t ComputeMix(std::uint64_t x, std::uint64_t rounds);

}  // namespace tri::txn::bench
