#pragma once

// Checks of one batch execution against the serial reference, shared by the
// properties and the ThreadSanitizer stress test: the first difference between
// two results, described, and the checks a trace must pass.

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "txn/types.h"

namespace tri::txn::testing {

// The most threads the properties and the stress test run an executor with.
inline constexpr std::size_t kMaxTestThreads = 16;

// One transaction's result as text: outcome, reason, writes, gas.
std::string Describe(const TxnResult& result);

// std::nullopt when `actual` has the same transaction results as `expected`
// (outcome, reason, writes and gas, byte for byte); else the first difference,
// naming the transaction.
std::optional<std::string> DiffResults(const BatchResult& expected, const BatchResult& actual);

// The trace of a run whose results equal `serial`, checked (std::nullopt when
// it passes; else what is wrong, naming the transaction and event):
// - ordered by time, then thread; every thread below `threads`;
// - per transaction, the final execution (the last START of its highest
//   incarnation) runs START ... COMMIT or ABORT with no other START, COMMIT or
//   ABORT between; it ends in COMMIT exactly when the transaction committed,
//   an ABORT carries the result's reason, and its WRITE keys are the result's
//   written keys;
// - every READ of a final execution names the version the serial order
//   implies: the transaction's own execution for a key it wrote before,
//   else the last earlier committed writer of the key (at that writer's final
//   incarnation), else storage.
std::optional<std::string> CheckTrace(const BatchResult& serial, std::span<const TraceEvent> trace,
                                      std::size_t threads);

}  // namespace tri::txn::testing
