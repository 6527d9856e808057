#include "rsm/kv_validate.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "rsm/reserved_keys.h"

namespace tri::rsm {

namespace {

std::optional<KvError> CheckKey(const std::string& key, const std::string& range_end,
                                const KvOptions& options) {
  if (key.empty()) return ErrEmptyKey();
  if (key.size() > options.max_key_bytes || range_end.size() > options.max_key_bytes) {
    return ErrRequestTooLarge();
  }
  return std::nullopt;
}

std::optional<KvError> CheckTxn(const TxnRequest& r, const KvOptions& options,
                                std::uint64_t max_ops, int depth);

// etcd's checkRequestOp: nested txns get the budget that is left at their level.
std::optional<KvError> CheckOp(const RequestOp& op, const KvOptions& options, std::uint64_t max_ops,
                               int depth) {
  if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
    return ValidateRange(*range, options);
  }
  if (const auto* put = std::get_if<PutRequest>(&op.request)) return ValidatePut(*put, options);
  if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
    return ValidateDeleteRange(*del, options);
  }
  return CheckTxn(std::get<TxnRequest>(op.request), options, max_ops, depth + 1);
}

std::optional<KvError> CheckTxn(const TxnRequest& r, const KvOptions& options,
                                std::uint64_t max_ops, int depth) {
  if (depth > options.max_txn_depth) return ErrTxnTooDeep(options.max_txn_depth);
  const std::uint64_t opc = std::max({r.compare.size(), r.success.size(), r.failure.size()});
  if (opc > max_ops) return ErrTooManyOps();
  for (const Compare& c : r.compare) {
    if (auto error = CheckKey(c.key, c.range_end, options)) return error;
  }
  for (const auto* ops : {&r.success, &r.failure}) {
    for (const RequestOp& op : *ops) {
      if (auto error = CheckOp(op, options, max_ops - opc, depth)) return error;
    }
  }
  return std::nullopt;
}

// A deleted interval: [begin, end), end empty = unbounded (etcd's "\0" range_end).
struct Interval {
  std::string begin;
  std::string end;
  bool Contains(const std::string& key) const { return begin <= key && (end.empty() || key < end); }
};

Interval DeleteInterval(const DeleteRangeRequest& d) {
  if (d.range_end.empty()) return Interval{d.key, d.key + std::string(1, '\0')};
  if (d.range_end == std::string(1, '\0')) return Interval{d.key, ""};
  return Interval{d.key, d.range_end};
}

bool AnyContains(const std::vector<Interval>& intervals, const std::string& key) {
  return std::any_of(intervals.begin(), intervals.end(),
                     [&key](const Interval& i) { return i.Contains(key); });
}

struct Writes {
  std::set<std::string> puts;
  std::vector<Interval> dels;
};

// etcd's checkIntervals, with the missing sibling direction added (see header).
bool CheckIntervals(const std::vector<RequestOp>& ops, Writes& out) {
  for (const RequestOp& op : ops) {
    if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
      out.dels.push_back(DeleteInterval(*del));
    }
  }
  for (const RequestOp& op : ops) {
    const auto* txn = std::get_if<TxnRequest>(&op.request);
    if (txn == nullptr) continue;
    Writes then_writes;
    Writes else_writes;
    if (!CheckIntervals(txn->success, then_writes)) return false;
    if (!CheckIntervals(txn->failure, else_writes)) return false;
    // The missing direction: puts of earlier siblings against this txn's deletes.
    for (const std::string& key : out.puts) {
      if (AnyContains(then_writes.dels, key) || AnyContains(else_writes.dels, key)) return false;
    }
    for (const std::string& key : then_writes.puts) {
      if (out.puts.count(key) != 0 || AnyContains(out.dels, key)) return false;
    }
    for (const std::string& key : else_writes.puts) {
      // then and else exclude each other, so a key in both is fine.
      if (out.puts.count(key) != 0 && then_writes.puts.count(key) == 0) return false;
      if (AnyContains(out.dels, key)) return false;
    }
    out.puts.insert(then_writes.puts.begin(), then_writes.puts.end());
    out.puts.insert(else_writes.puts.begin(), else_writes.puts.end());
    out.dels.insert(out.dels.end(), then_writes.dels.begin(), then_writes.dels.end());
    out.dels.insert(out.dels.end(), else_writes.dels.begin(), else_writes.dels.end());
  }
  for (const RequestOp& op : ops) {
    const auto* put = std::get_if<PutRequest>(&op.request);
    if (put == nullptr) continue;
    if (out.puts.count(put->key) != 0 || AnyContains(out.dels, put->key)) return false;
    out.puts.insert(put->key);
  }
  return true;
}

}  // namespace

std::optional<KvError> ValidateRange(const RangeRequest& r, const KvOptions& options) {
  return CheckKey(r.key, r.range_end, options);
}

std::optional<KvError> ValidatePut(const PutRequest& r, const KvOptions& options) {
  if (auto error = CheckKey(r.key, "", options)) return error;
  if (IsReservedKey(r.key)) return ErrReservedKey(r.key);
  if (r.ignore_value && !r.value.empty()) return ErrValueProvided();
  if (r.ignore_lease && r.lease != 0) return ErrLeaseProvided();
  return std::nullopt;
}

std::optional<KvError> ValidateDeleteRange(const DeleteRangeRequest& r, const KvOptions& options) {
  if (auto error = CheckKey(r.key, r.range_end, options)) return error;
  // A delete aimed into the reserved prefix is refused; a wider one (from a key
  // before it) runs and leaves the reserved keys alone (MvccStore::DeleteRange).
  if (IsReservedKey(r.key)) return ErrReservedKey(r.key, r.range_end);
  return std::nullopt;
}

std::optional<KvError> ValidateTxn(const TxnRequest& r, const KvOptions& options) {
  if (auto error = CheckTxn(r, options, options.max_txn_ops, 0)) return error;
  Writes success_writes;
  Writes failure_writes;
  if (!CheckIntervals(r.success, success_writes) || !CheckIntervals(r.failure, failure_writes)) {
    return ErrDuplicateKey();
  }
  return std::nullopt;
}

std::optional<KvError> ValidateKvRequest(const KvRequest& r, const KvOptions& options) {
  if (const auto* range = std::get_if<RangeRequest>(&r)) return ValidateRange(*range, options);
  if (const auto* put = std::get_if<PutRequest>(&r)) return ValidatePut(*put, options);
  if (const auto* del = std::get_if<DeleteRangeRequest>(&r)) {
    return ValidateDeleteRange(*del, options);
  }
  if (const auto* txn = std::get_if<TxnRequest>(&r)) return ValidateTxn(*txn, options);
  return std::nullopt;
}

}  // namespace tri::rsm
