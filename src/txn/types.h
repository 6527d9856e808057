#pragma once

// The values a batch execution produces (docs/transactions.md). Every field is
// part of the serial-equivalence contract except the trace: two executions of
// the same batch over the same state compare equal with operator== whatever
// scheduler and thread count ran them.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tri::txn {

// What a transaction ended as.
enum class Outcome : std::uint8_t {
  kCommitted = 0,
  // The body returned an error, or the transaction broke a bound (a key or
  // value too large, too many keys, a key outside its declared sets).
  kAborted = 1,
  // It used more than its gas budget (TxnLimits): a deterministic step count,
  // never wall time, so every replica and every scheduler agree.
  kTimedOut = 2,
};

std::string_view OutcomeName(Outcome outcome);

// One key's final effect: a value, or std::nullopt for a delete.
struct KeyWrite {
  std::string key;
  std::optional<std::string> value;
  friend bool operator==(const KeyWrite&, const KeyWrite&) = default;
};

struct TxnResult {
  Outcome outcome = Outcome::kCommitted;
  // Why it was aborted or timed out; empty when committed.
  std::string reason;
  // Committed only: the last write of each key it wrote, sorted by key. Empty
  // for aborted and timed-out transactions (their writes are rolled back).
  std::vector<KeyWrite> writes;
  // Gas the final (serial-equivalent) execution used, the budget overrun
  // included for a timed-out one.
  std::uint64_t gas_used = 0;
  friend bool operator==(const TxnResult&, const TxnResult&) = default;
};

// A version of a key as a transaction saw it: the batch index of the
// transaction whose write it read (with that execution's incarnation), or the
// state below the batch.
struct Version {
  static constexpr std::uint32_t kStorage = 0xffffffffu;
  std::uint32_t txn = kStorage;
  std::uint32_t incarnation = 0;
  bool from_storage() const { return txn == kStorage; }
  friend bool operator==(const Version&, const Version&) = default;
};

enum class TraceKind : std::uint8_t {
  kStart = 0,   // an execution (incarnation) of the body begins
  kRead = 1,    // key, version seen
  kWrite = 2,   // key (a delete is a write of no value)
  kCommit = 3,  // the execution finished and its writes were published
  kAbort = 4,   // aborted or timed out (reason in `key`), or, in the
                // optimistic scheduler, a speculative execution that stopped
                // on a dependency or failed validation (re-executed later)
};

std::string_view TraceKindName(TraceKind kind);

// One traced event. time_ns is a steady-clock reading; thread is the executor's
// worker number (0 is the calling thread).
struct TraceEvent {
  std::uint64_t time_ns = 0;
  std::uint32_t thread = 0;
  std::uint32_t txn = 0;
  std::uint32_t incarnation = 0;
  TraceKind kind = TraceKind::kStart;
  Version version;  // kRead only
  std::string key;  // kRead, kWrite; the reason for kAbort
};

struct BatchResult {
  // One per transaction, in batch order.
  std::vector<TxnResult> txns;
  // Filled only when ExecuteOptions::trace is set: every event, ordered by
  // time_ns (ties by thread). Not part of the equivalence contract.
  std::vector<TraceEvent> trace;
};

// Serial equivalence: the outcomes, reasons, writes and gas of two results.
bool SameOutcomes(const BatchResult& a, const BatchResult& b);

}  // namespace tri::txn
