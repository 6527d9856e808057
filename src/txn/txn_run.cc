#include "txn/txn_run.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "txn/str.h"

namespace tri::txn {

namespace {
// Up to this many keys a linear scan beats hashing.
constexpr std::size_t kLinearKeys = 16;
}  // namespace

TxnRun::TxnRun(std::uint32_t index, std::uint32_t incarnation, const Transaction& txn,
               const TxnLimits& limits, bool enforce_declared, TraceSink* trace)
    : index_(index),
      incarnation_(incarnation),
      txn_(txn),
      limits_(limits),
      enforce_declared_(enforce_declared),
      trace_(trace),
      gas_budget_(txn.gas_budget != 0 ? txn.gas_budget : limits.default_gas_budget) {}

void TxnRun::Run() {
  TRI_ASSERT_MSG(!ran_, "TxnRun::Run called twice");
  ran_ = true;
  Trace(TraceKind::kStart);
  if (enforce_declared_) {
    const std::size_t declared = txn_.read_set.size() + txn_.write_set.size();
    if (declared > limits_.max_keys_per_txn) {
      (void)Fail(Failure::kBound, Str("declares ", declared, " keys, more than max_keys_per_txn ",
                                      limits_.max_keys_per_txn));
    }
  }
  if (failure_ == Failure::kNone) body_status_ = txn_.body(*this);
  if (must_wait_) {
    Trace(TraceKind::kAbort, failure_reason_);
    return;
  }
  if (failure_ != Failure::kNone) {
    Trace(TraceKind::kAbort, failure_reason_);
  } else if (!body_status_.ok()) {
    Trace(TraceKind::kAbort, body_status_.message());
  } else {
    Trace(TraceKind::kCommit);
  }
}

TxnResult TxnRun::TakeResult() {
  TRI_ASSERT_MSG(ran_ && !must_wait_, "TxnRun::TakeResult before a complete run");
  TxnResult result;
  result.gas_used = gas_used_;
  if (failure_ == Failure::kTimedOut) {
    result.outcome = Outcome::kTimedOut;
    result.reason = std::move(failure_reason_);
  } else if (failure_ == Failure::kBound) {
    result.outcome = Outcome::kAborted;
    result.reason = std::move(failure_reason_);
  } else if (!body_status_.ok()) {
    result.outcome = Outcome::kAborted;
    result.reason = body_status_.message().empty() ? std::string("aborted by the transaction")
                                                   : body_status_.message();
  } else {
    result.outcome = Outcome::kCommitted;
    result.writes = std::move(writes_);
    std::sort(result.writes.begin(), result.writes.end(),
              [](const KeyWrite& a, const KeyWrite& b) { return a.key < b.key; });
  }
  return result;
}

Status TxnRun::Fail(Failure failure, std::string reason) {
  if (failure_ == Failure::kNone) {
    failure_ = failure;
    failure_reason_ = std::move(reason);
  }
  return Stopped();
}

Status TxnRun::Stopped() const {
  switch (failure_) {
    case Failure::kNone:
      return Status::Ok();
    case Failure::kTimedOut:
      return DeadlineExceeded(failure_reason_);
    case Failure::kBound:
      return Aborted(failure_reason_);
    case Failure::kWait:
      return Unavailable(failure_reason_);
  }
  return Internal("unknown failure");
}

Status TxnRun::Charge(std::uint64_t gas) {
  if (Status stopped = Stopped(); !stopped.ok()) return stopped;
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
  gas_used_ = gas > max - gas_used_ ? max : gas_used_ + gas;
  if (gas_used_ > gas_budget_) {
    return Fail(Failure::kTimedOut, Str("gas budget ", gas_budget_, " exceeded"));
  }
  return Status::Ok();
}

Status TxnRun::CheckKey(std::string_view key, bool for_write) {
  if (key.size() > limits_.max_key_size) {
    return Fail(Failure::kBound,
                Str("key of ", key.size(), " bytes exceeds max_key_size ", limits_.max_key_size));
  }
  if (enforce_declared_ && !Declared(key, for_write)) {
    return Fail(Failure::kBound,
                Str(for_write ? "write" : "read", " of key '", key, "' outside the declared ",
                    for_write ? "write set" : "read and write sets"));
  }
  return Status::Ok();
}

bool TxnRun::Declared(std::string_view key, bool for_write) {
  const std::size_t total = txn_.read_set.size() + txn_.write_set.size();
  if (total <= kLinearKeys) {
    for (const std::string& k : txn_.write_set) {
      if (k == key) return true;
    }
    if (for_write) return false;
    for (const std::string& k : txn_.read_set) {
      if (k == key) return true;
    }
    return false;
  }
  if (!declared_built_) {
    declared_built_ = true;
    for (const std::string& k : txn_.read_set)
      declared_.emplace(k, false);
    for (const std::string& k : txn_.write_set)
      declared_[k] = true;
  }
  auto it = declared_.find(key);
  return it != declared_.end() && (it->second || !for_write);
}

std::optional<long> TxnRun::Find(std::string_view key) const {
  // Not used for own writes vs reads separately: see Read/PutWrite.
  if (writes_.size() + reads_.size() <= kLinearKeys) {
    for (std::size_t i = 0; i < writes_.size(); ++i) {
      if (writes_[i].key == key) return static_cast<long>(i);
    }
    for (std::size_t i = 0; i < reads_.size(); ++i) {
      if (reads_[i].key == key) return -1 - static_cast<long>(i);
    }
    return std::nullopt;
  }
  auto it = index_by_key_.find(std::string(key));
  if (it == index_by_key_.end()) return std::nullopt;
  return it->second;
}

void TxnRun::Index(std::string_view key, long slot) {
  const std::size_t total = writes_.size() + reads_.size();
  if (total <= kLinearKeys) return;
  if (index_by_key_.empty()) {
    // Crossing the linear limit: index everything so far. A key both read and
    // written is indexed at its write, which Read consults first.
    for (std::size_t i = 0; i < reads_.size(); ++i) {
      index_by_key_.emplace(reads_[i].key, -1 - static_cast<long>(i));
    }
    for (std::size_t i = 0; i < writes_.size(); ++i) {
      index_by_key_[writes_[i].key] = static_cast<long>(i);
    }
    return;
  }
  if (slot >= 0) {
    index_by_key_[std::string(key)] = slot;
  } else {
    index_by_key_.emplace(std::string(key), slot);
  }
}

Result<std::optional<std::string>> TxnRun::Read(std::string_view key) {
  if (Status stopped = Stopped(); !stopped.ok()) return stopped;
  if (Status status = CheckKey(key, /*for_write=*/false); !status.ok()) return status;
  if (Status status = Charge(limits_.read_gas); !status.ok()) return status;
  if (std::optional<long> slot = Find(key)) {
    if (*slot >= 0) {
      const KeyWrite& own = writes_[static_cast<std::size_t>(*slot)];
      Trace(TraceKind::kRead, own.key, Version{index_, incarnation_});
      return own.value;
    }
    const ReadRecord& seen = reads_[static_cast<std::size_t>(-1 - *slot)];
    // A key read, then written, is found at its write (Find scans writes
    // first), so this is the value from below.
    Trace(TraceKind::kRead, seen.key, seen.version);
    return seen.value;
  }
  if (writes_.size() + reads_.size() >= limits_.max_keys_per_txn) {
    return Fail(Failure::kBound,
                Str("touches more than max_keys_per_txn ", limits_.max_keys_per_txn, " keys"));
  }
  Below below = ReadBelow(key);
  if (below.must_wait) {
    must_wait_ = true;
    blocking_txn_ = below.blocking_txn;
    return Fail(Failure::kWait,
                Str("read of '", key, "' waits for transaction ", below.blocking_txn));
  }
  reads_.push_back(ReadRecord{std::string(key), below.version, std::move(below.value)});
  Index(key, -1 - static_cast<long>(reads_.size() - 1));
  Trace(TraceKind::kRead, reads_.back().key, reads_.back().version);
  return reads_.back().value;
}

Status TxnRun::Write(std::string_view key, std::string_view value) {
  if (Status stopped = Stopped(); !stopped.ok()) return stopped;
  if (Status status = CheckKey(key, /*for_write=*/true); !status.ok()) return status;
  if (value.size() > limits_.max_value_size) {
    return Fail(Failure::kBound, Str("value of ", value.size(), " bytes for key '", key,
                                     "' exceeds max_value_size ", limits_.max_value_size));
  }
  if (Status status = Charge(limits_.write_gas); !status.ok()) return status;
  return PutWrite(key, std::string(value));
}

Status TxnRun::Delete(std::string_view key) {
  if (Status stopped = Stopped(); !stopped.ok()) return stopped;
  if (Status status = CheckKey(key, /*for_write=*/true); !status.ok()) return status;
  if (Status status = Charge(limits_.write_gas); !status.ok()) return status;
  return PutWrite(key, std::nullopt);
}

Status TxnRun::PutWrite(std::string_view key, std::optional<std::string> value) {
  std::optional<long> slot = Find(key);
  if (slot && *slot >= 0) {
    writes_[static_cast<std::size_t>(*slot)].value = std::move(value);
  } else {
    if (writes_.size() + reads_.size() >= limits_.max_keys_per_txn) {
      return Fail(Failure::kBound,
                  Str("touches more than max_keys_per_txn ", limits_.max_keys_per_txn, " keys"));
    }
    writes_.push_back(KeyWrite{std::string(key), std::move(value)});
    Index(key, static_cast<long>(writes_.size() - 1));
  }
  Trace(TraceKind::kWrite, key);
  return Status::Ok();
}

void TxnRun::RecordTrace(TraceKind kind, std::string_view key, Version version) {
  TraceEvent event;
  event.txn = index_;
  event.incarnation = incarnation_;
  event.kind = kind;
  event.version = version;
  event.key = std::string(key);
  trace_->Record(std::move(event));
}

}  // namespace tri::txn
