#pragma once

// A transaction: a deterministic function of what it reads (docs/transactions.md).
// Its body sees the state through TxnContext and must not read anything else
// (no clocks, no randomness, no globals): the schedulers may run it several
// times, on any thread, and keep the execution whose reads match the serial
// order.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"

namespace tri::txn {

// What a body calls. Every call costs gas (TxnLimits::*_gas). A call that fails
// means the transaction cannot go on (out of gas, a bound broken, or, inside
// the optimistic scheduler, a read that must wait for an earlier transaction):
// the body must return that error (TRI_ASSIGN_OR_RETURN does). Whatever a body
// returns after a failed call, the executor decides the outcome from the
// failure, so a body that ignores an error cannot change the result.
class TxnContext {
 public:
  virtual ~TxnContext() = default;
  // The key's value as this transaction sees it: its own latest write, else the
  // state after every earlier transaction of the batch. std::nullopt: absent.
  // Reading the same key twice answers the same value.
  virtual Result<std::optional<std::string>> Read(std::string_view key) = 0;
  virtual Status Write(std::string_view key, std::string_view value) = 0;
  virtual Status Delete(std::string_view key) = 0;
  // Charges computation that touches no key (a loop, a hash), so that a body
  // that computes without reading still runs out of gas deterministically.
  virtual Status Charge(std::uint64_t gas) = 0;
};

// Returns OK to commit. Any other status aborts the transaction with the
// status's message as the reason (its writes are rolled back).
using TxnBody = std::function<Status(TxnContext&)>;

struct Transaction {
  TxnBody body;
  // The declared scheduler only (ignored by the others): the keys the body may
  // read and the keys it may write. A key in write_set may also be read. An
  // access outside them aborts the transaction, in every scheduler that
  // enforces declarations, serial reference included.
  std::vector<std::string> read_set;
  std::vector<std::string> write_set;
  // Gas budget; 0 means TxnLimits::default_gas_budget.
  std::uint64_t gas_budget = 0;
};

}  // namespace tri::txn
