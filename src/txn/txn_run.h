#pragma once

// One execution (an incarnation) of one transaction's body: the part every
// scheduler shares. It keeps the transaction's own writes and the values it
// read, charges gas, enforces the per-transaction bounds and the declared
// sets, and turns what happened into a TxnResult. A scheduler subclasses it to
// say where a read of a key the transaction has not touched yet comes from.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "txn/options.h"
#include "txn/trace_sink.h"
#include "txn/transaction.h"
#include "txn/types.h"

namespace tri::txn {

class TxnRun : public TxnContext {
 public:
  // A read from below the transaction, as the subclass answers it: a value at
  // a version, or "wait for transaction `blocking_txn`" (optimistic only).
  struct Below {
    std::optional<std::string> value;
    Version version;
    bool must_wait = false;
    std::uint32_t blocking_txn = 0;
  };
  struct ReadRecord {
    std::string key;
    Version version;
    std::optional<std::string> value;
  };

  TxnRun(std::uint32_t index, std::uint32_t incarnation, const Transaction& txn,
         const TxnLimits& limits, bool enforce_declared, TraceSink* trace);
  ~TxnRun() override = default;
  TxnRun(const TxnRun&) = delete;
  TxnRun& operator=(const TxnRun&) = delete;

  // Runs the body once. Call at most once per object.
  void Run();

  // The body stopped on a read that must wait for an earlier transaction.
  bool must_wait() const { return must_wait_; }
  std::uint32_t blocking_txn() const { return blocking_txn_; }

  // After Run, when !must_wait(): the result (writes sorted; empty unless
  // committed). Moves the writes out: call once.
  TxnResult TakeResult();

  // Reads from below, in the order made (each key once).
  const std::vector<ReadRecord>& reads() const { return reads_; }

  // TxnContext.
  Result<std::optional<std::string>> Read(std::string_view key) final;
  Status Write(std::string_view key, std::string_view value) final;
  Status Delete(std::string_view key) final;
  Status Charge(std::uint64_t gas) final;

 protected:
  virtual Below ReadBelow(std::string_view key) = 0;

 private:
  enum class Failure : std::uint8_t { kNone, kTimedOut, kBound, kWait };
  Status Fail(Failure failure, std::string reason);
  Status Stopped() const;
  Status CheckKey(std::string_view key, bool for_write);
  Status PutWrite(std::string_view key, std::optional<std::string> value);
  // Slot of `key` in writes_ (>= 0) or reads_ (encoded as -1 - i), or nullopt.
  std::optional<long> Find(std::string_view key) const;
  void Index(std::string_view key, long slot);
  bool Declared(std::string_view key, bool for_write);
  // Off (no sink) costs one branch: nothing is built.
  void Trace(TraceKind kind, std::string_view key = {}, Version version = {}) {
    if (trace_ != nullptr) RecordTrace(kind, key, version);
  }
  void RecordTrace(TraceKind kind, std::string_view key, Version version);

  const std::uint32_t index_;
  const std::uint32_t incarnation_;
  const Transaction& txn_;
  const TxnLimits& limits_;
  const bool enforce_declared_;
  TraceSink* const trace_;
  const std::uint64_t gas_budget_;

  std::uint64_t gas_used_ = 0;
  Failure failure_ = Failure::kNone;
  std::string failure_reason_;
  bool must_wait_ = false;
  std::uint32_t blocking_txn_ = 0;
  Status body_status_;
  bool ran_ = false;

  std::vector<KeyWrite> writes_;
  std::vector<ReadRecord> reads_;
  // Built once a transaction touches more keys than a linear scan suits.
  std::unordered_map<std::string, long> index_by_key_;
  std::unordered_map<std::string_view, bool> declared_;  // key -> writable
  bool declared_built_ = false;
};

}  // namespace tri::txn
