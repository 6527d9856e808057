#pragma once

// Random transaction batches for the executor properties, the soak and the
// ThreadSanitizer stress test (docs/transactions.md, "Proof that parallel
// equals serial").
//
// A transaction is a small printable program over a key space of named keys
// (k0, k1, ...): Read k, Write k, Delete k, AbortIf (a condition on what was
// read) and Charge g. Its body interprets the program, so RapidCheck shows a
// failing batch as text and shrinks it op by op. The body is a deterministic,
// total function of what it reads: any value (speculative runs may read
// inconsistent state) gives some answer, never a crash. Every value it writes
// is a hash of the transaction's index, everything it read so far and the op's
// position, so two writers of one key almost never write the same bytes and a
// read of the wrong version changes the written values downstream.

#include <rapidcheck.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "txn/options.h"
#include "txn/state_view.h"
#include "txn/transaction.h"

namespace tri::txn::testing {

enum class OpKind : std::uint8_t { kRead, kWrite, kDelete, kAbortIf, kCharge };

struct Op {
  OpKind kind = OpKind::kRead;
  // kRead, kWrite, kDelete: the key's number in the key space.
  std::uint32_t key = 0;
  // kAbortIf: aborts when (hash of the reads so far) % modulus == remainder.
  // A modulus of 0 never aborts (the generator draws 1..8).
  std::uint32_t modulus = 0;
  std::uint32_t remainder = 0;
  // kCharge: gas charged.
  std::uint32_t gas = 0;
  // The key is left out of the declared sets (unless another op of the
  // program declares it), so an enforcing run aborts the transaction.
  bool undeclared = false;
  friend bool operator==(const Op&, const Op&) = default;
};

struct Program {
  std::vector<Op> ops;
  // 0: the batch's TxnLimits::default_gas_budget.
  std::uint64_t gas_budget = 0;
  friend bool operator==(const Program&, const Program&) = default;
};

struct BatchSpec {
  std::uint32_t key_space = 2;
  // The base state: key k (of those the programs touch) is present when
  // Mix(base_seed, k) % 100 < base_density_percent, with a value derived
  // from the same seed.
  std::uint64_t base_seed = 0;
  std::uint32_t base_density_percent = 50;
  TxnLimits limits;
  std::vector<Program> programs;
};

// The ranges a generated batch is drawn from. The defaults are the full range
// of the issue: up to 10,000 transactions (mostly small batches) over 2 to
// 100,000 keys.
struct BatchShape {
  std::size_t max_txns = 10'000;
  // Mostly small batches (most up to 8 or 64 transactions, one in 200 up to
  // max_txns); when false, every batch has min_txns to max_txns transactions.
  bool mostly_small = true;
  std::size_t min_txns = 0;
  std::uint32_t min_keys = 2;
  std::uint32_t max_keys = 100'000;
  // Percent of batches whose TxnLimits are tight (small key, value, gas and
  // per-transaction key bounds, or a batch bound the batch breaks).
  std::uint32_t tight_limits_percent = 15;
};

// "k<number>".
std::string KeyName(std::uint32_t key);

// The transaction a program is: its body and exact declared sets (keys read
// and not written in read_set, keys written or deleted in write_set), minus the
// keys of undeclared ops. `index` is the transaction's batch index, mixed into
// every value it writes.
Transaction ToTransaction(const Program& program, std::uint32_t index);
std::vector<Transaction> ToBatch(const BatchSpec& spec);
// The state below the batch (only the keys the programs touch: the others
// cannot be read).
MapState BaseState(const BatchSpec& spec);

// The options a spec runs with (its limits; the scheduler and the rest are the
// caller's).
ExecuteOptions OptionsFor(const BatchSpec& spec, Scheduler scheduler);

rc::Gen<BatchSpec> GenBatch(const BatchShape& shape = {});

std::ostream& operator<<(std::ostream& out, const Op& op);
std::ostream& operator<<(std::ostream& out, const Program& program);
std::ostream& operator<<(std::ostream& out, const BatchSpec& spec);

}  // namespace tri::txn::testing
