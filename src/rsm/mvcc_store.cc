#include "rsm/mvcc_store.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"
#include "base/crc32c.h"
#include "rsm/kv_codec.h"
#include "rsm/kv_compare.h"
#include "rsm/kv_validate.h"

namespace tri::rsm {

namespace {

// etcd's mkGteRange: a range_end of "\0" means "no upper bound".
bool Unbounded(const std::string& range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

// Calls f(key, history) for every key of the index in [key, range_end) (or the
// single key when range_end is empty), in key order.
template <typename IndexT, typename F>
void ForEachInRange(IndexT& index, const std::string& key, const std::string& range_end, F f) {
  if (range_end.empty()) {
    auto it = index.find(key);
    if (it != index.end()) f(it->first, it->second);
    return;
  }
  const bool unbounded = Unbounded(range_end);
  for (auto it = index.lower_bound(key); it != index.end(); ++it) {
    if (!unbounded && !(it->first < range_end)) break;
    f(it->first, it->second);
  }
}

}  // namespace

// The write half of one request: every write takes revision current+1 and the
// next sub-revision; Commit publishes the revision if anything was written.
class MvccStore::WriteTxn {
 public:
  explicit WriteTxn(MvccStore& store) : store_(store), revision_(store.current_revision_ + 1) {}

  bool changed() const { return next_sub_ > 0; }
  std::int64_t revision() const { return revision_; }
  // What reads inside the txn see: its own writes once there are any.
  std::int64_t read_revision() const { return changed() ? revision_ : revision_ - 1; }

  void Put(const std::string& key, std::string value, std::int64_t lease) {
    History& history = store_.index_[key];
    TRI_ASSERT_MSG(history.empty() || history.back().main < revision_,
                   "a key written twice in one revision (validation let a duplicate through)");
    const KeyRevision* previous =
        history.empty() || history.back().tombstone ? nullptr : &history.back();
    const std::int64_t previous_lease = previous != nullptr ? previous->lease : 0;
    KeyRevision r;
    r.main = revision_;
    r.sub = next_sub_++;
    r.create_revision = previous != nullptr ? previous->create_revision : revision_;
    r.version = previous != nullptr ? previous->version + 1 : 1;
    r.lease = lease;
    r.value = std::move(value);
    TRI_ASSERT(r.version >= 1 && r.create_revision <= r.main);
    store_.used_bytes_ += RevisionBytes(key, r);
    WatchEvent event{WatchEvent::PUT, ToKeyValue(key, r), std::nullopt, r.sub};
    if (previous != nullptr) event.prev_kv = ToKeyValue(key, *previous);
    store_.events_.Record(std::move(event));
    history.push_back(std::move(r));
    if (previous_lease != lease) {
      TRI_ASSERT_MSG(store_.lease_hook_ != nullptr || lease == 0,
                     "a lease attached without a lease hook");
      if (store_.lease_hook_ != nullptr)
        store_.lease_hook_->OnKeyLeaseChanged(key, previous_lease, lease);
    }
  }

  // Tombstones every key of the range live now; returns how many.
  // A client's delete passes `skip_reserved`: the range may span the reserved
  // prefix (etcdctl del "" --from-key), but its keys are left alone.
  std::int64_t Delete(const std::string& key, const std::string& range_end,
                      bool skip_reserved = false) {
    std::int64_t deleted = 0;
    ForEachInRange(store_.index_, key, range_end, [&](const std::string& k, History& history) {
      TRI_ASSERT(!history.empty());
      if (history.back().tombstone) return;
      if (skip_reserved && IsReservedKey(k)) return;
      TRI_ASSERT_MSG(history.back().main < revision_,
                     "a key written twice in one revision (validation let a duplicate through)");
      const std::int64_t lease = history.back().lease;
      KeyRevision r;
      r.main = revision_;
      r.sub = next_sub_++;
      r.tombstone = true;
      store_.used_bytes_ += RevisionBytes(k, r);
      store_.events_.Record(WatchEvent{WatchEvent::DELETE, TombstoneKeyValue(k, revision_),
                                       ToKeyValue(k, history.back()), r.sub});
      history.push_back(std::move(r));
      ++deleted;
      if (lease != 0 && store_.lease_hook_ != nullptr)
        store_.lease_hook_->OnKeyLeaseChanged(k, lease, 0);
    });
    return deleted;
  }

  void Commit() {
    if (!changed()) return;
    TRI_ASSERT(revision_ == store_.current_revision_ + 1);
    store_.current_revision_ = revision_;
  }

 private:
  MvccStore& store_;
  const std::int64_t revision_;
  std::int64_t next_sub_ = 0;
};

MvccStore::MvccStore(KvOptions options) : options_(options), events_(options.watch_events) {}

const MvccStore::KeyRevision* MvccStore::VisibleAt(const History& history, std::int64_t revision) {
  // The last revision with main <= revision.
  auto it = std::upper_bound(history.begin(), history.end(), revision,
                             [](std::int64_t rev, const KeyRevision& r) { return rev < r.main; });
  if (it == history.begin()) return nullptr;
  --it;
  return it->tombstone ? nullptr : &*it;
}

KeyValue MvccStore::ToKeyValue(const std::string& key, const KeyRevision& r) {
  TRI_ASSERT(!r.tombstone);
  return KeyValue{key, r.create_revision, r.main, r.version, r.value, r.lease};
}

std::uint64_t MvccStore::RevisionBytes(std::string_view key, const KeyRevision& r) {
  return key.size() + r.value.size() + kRevisionOverheadBytes;
}

std::vector<MvccStore::Hit> MvccStore::LiveHits(const std::string& key,
                                                const std::string& range_end,
                                                std::int64_t revision) const {
  std::vector<Hit> hits;
  if (!range_end.empty() && !Unbounded(range_end) && !(key < range_end)) return hits;
  ForEachInRange(index_, key, range_end, [&](const std::string& k, const History& history) {
    if (const KeyRevision* r = VisibleAt(history, revision)) hits.push_back(Hit{&k, r});
  });
  return hits;
}

std::optional<KvError> MvccStore::CheckRangeRevision(std::int64_t revision) const {
  if (revision <= 0) return std::nullopt;
  if (revision > current_revision_) return ErrFutureRev();
  if (revision < compact_revision_) return ErrCompacted();
  return std::nullopt;
}

RangeResponse MvccStore::RangeAt(const RangeRequest& request, std::int64_t read_revision) const {
  const std::int64_t revision = request.revision > 0 ? request.revision : read_revision;
  TRI_ASSERT(revision <= read_revision && revision >= compact_revision_);
  std::vector<Hit> hits = LiveHits(request.key, request.range_end, revision);
  RangeResponse response;
  response.header.revision = read_revision;
  response.count = static_cast<std::int64_t>(hits.size());
  if (request.count_only) return response;

  // etcd prunes in this order; each filter is off at 0.
  auto prune = [&hits](auto drop) {
    hits.erase(std::remove_if(hits.begin(), hits.end(), drop), hits.end());
  };
  if (request.max_mod_revision != 0) {
    prune([&](const Hit& h) { return h.revision->main > request.max_mod_revision; });
  }
  if (request.min_mod_revision != 0) {
    prune([&](const Hit& h) { return h.revision->main < request.min_mod_revision; });
  }
  if (request.max_create_revision != 0) {
    prune([&](const Hit& h) { return h.revision->create_revision > request.max_create_revision; });
  }
  if (request.min_create_revision != 0) {
    prune([&](const Hit& h) { return h.revision->create_revision < request.min_create_revision; });
  }

  // Hits are in ascending key order. Sorting by another target keeps key order
  // among equals (a stable sort); DESCEND is the exact reverse of ASCEND.
  RangeRequest::SortOrder order = request.sort_order;
  if (request.sort_target != RangeRequest::KEY && order == RangeRequest::NONE) {
    order = RangeRequest::ASCEND;
  }
  if (order != RangeRequest::NONE && request.sort_target != RangeRequest::KEY) {
    auto less = [target = request.sort_target](const Hit& a, const Hit& b) {
      switch (target) {
        case RangeRequest::VERSION:
          return a.revision->version < b.revision->version;
        case RangeRequest::CREATE:
          return a.revision->create_revision < b.revision->create_revision;
        case RangeRequest::MOD:
          return a.revision->main < b.revision->main;
        case RangeRequest::VALUE:
          return a.revision->value < b.revision->value;
        case RangeRequest::KEY:
          break;
      }
      TRI_UNREACHABLE();
    };
    std::stable_sort(hits.begin(), hits.end(), less);
  }
  if (order == RangeRequest::DESCEND) std::reverse(hits.begin(), hits.end());

  std::size_t take = hits.size();
  if (request.limit > 0 && hits.size() > static_cast<std::uint64_t>(request.limit)) {
    take = static_cast<std::size_t>(request.limit);
    response.more = true;
  }
  response.kvs.reserve(take);
  for (std::size_t i = 0; i < take; ++i) {
    KeyValue kv = ToKeyValue(*hits[i].key, *hits[i].revision);
    if (request.keys_only) kv.value.clear();
    response.kvs.push_back(std::move(kv));
  }
  return response;
}

KvOr<RangeResponse> MvccStore::Range(const RangeRequest& request) const {
  if (auto error = ValidateRange(request, options_)) return *error;
  if (auto error = CheckRangeRevision(request.revision)) return *error;
  return RangeAt(request, current_revision_);
}

std::uint64_t MvccStore::PutCost(const PutRequest& request) const {
  std::uint64_t value_bytes = request.value.size();
  if (request.ignore_value) {
    auto it = index_.find(request.key);
    const KeyRevision* current =
        it == index_.end() ? nullptr : VisibleAt(it->second, current_revision_);
    TRI_ASSERT_MSG(current != nullptr, "ignore_value on a missing key passed the checks");
    value_bytes = current->value.size();
  }
  return request.key.size() + value_bytes + kRevisionOverheadBytes;
}

std::optional<KvError> MvccStore::ReserveQuota(std::uint64_t put_bytes) {
  if (put_bytes == 0) return std::nullopt;
  if (nospace_alarm_) return ErrNoSpace();
  if (used_bytes_ + put_bytes > options_.quota_bytes) {
    nospace_alarm_ = true;
    return ErrNoSpace();
  }
  return std::nullopt;
}

std::optional<KvError> MvccStore::CheckLease(std::int64_t lease, std::string_view key) const {
  if (lease == 0) return std::nullopt;
  if (lease_hook_ == nullptr) return ErrLeaseNotFound();
  return lease_hook_->CheckAttach(lease, key);
}

std::int64_t MvccStore::DeleteKeys(const std::vector<std::string>& keys,
                                   const std::vector<ReservedWrite>& reserved) {
  WriteTxn write(*this);
  std::int64_t deleted = 0;
  for (const std::string& key : keys)
    deleted += write.Delete(key, std::string());
  AddReservedWrites(write, reserved);
  write.Commit();
  return deleted;
}

std::optional<KeyValue> MvccStore::Current(std::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end() || it->second.back().tombstone) return std::nullopt;
  return ToKeyValue(it->first, it->second.back());
}

std::vector<std::pair<std::string, std::int64_t>> MvccStore::LeasedKeys() const {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& [key, history] : index_) {
    if (!history.empty() && !history.back().tombstone && history.back().lease != 0) {
      out.emplace_back(key, history.back().lease);
    }
  }
  return out;
}

KvOr<PutResponse> MvccStore::Put(const PutRequest& request) {
  if (auto error = ValidatePut(request, options_)) return *error;
  // etcd's check order: the lease before the key.
  if (auto error = CheckLease(request.lease, request.key)) return *error;
  auto it = index_.find(request.key);
  const KeyRevision* current =
      it == index_.end() ? nullptr : VisibleAt(it->second, current_revision_);
  if ((request.ignore_value || request.ignore_lease) && current == nullptr) {
    return ErrKeyNotFound();
  }
  if (auto error = ReserveQuota(PutCost(request))) return *error;

  PutResponse response;
  if (request.prev_kv && current != nullptr) response.prev_kv = ToKeyValue(request.key, *current);
  std::string value = request.ignore_value ? current->value : request.value;
  const std::int64_t lease = request.ignore_lease ? current->lease : request.lease;
  WriteTxn write(*this);
  write.Put(request.key, std::move(value), lease);
  write.Commit();
  response.header.revision = current_revision_;
  return response;
}

KvOr<DeleteRangeResponse> MvccStore::DeleteRange(const DeleteRangeRequest& request) {
  if (auto error = ValidateDeleteRange(request, options_)) return *error;
  DeleteRangeResponse response;
  if (request.prev_kv) {
    for (const Hit& hit : LiveHits(request.key, request.range_end, current_revision_)) {
      if (!IsReservedKey(*hit.key))
        response.prev_kvs.push_back(ToKeyValue(*hit.key, *hit.revision));
    }
  }
  WriteTxn write(*this);
  response.deleted = write.Delete(request.key, request.range_end, /*skip_reserved=*/true);
  TRI_ASSERT(!request.prev_kv ||
             response.deleted == static_cast<std::int64_t>(response.prev_kvs.size()));
  write.Commit();
  response.header.revision = current_revision_;
  return response;
}

bool MvccStore::EvaluateCompare(const Compare& compare) const {
  const std::vector<Hit> hits = LiveHits(compare.key, compare.range_end, current_revision_);
  if (hits.empty()) {
    // etcd: a value compare on a missing key always fails; the other targets
    // compare against an all-zero KeyValue.
    return CompareHolds(compare, nullptr);
  }
  for (const Hit& hit : hits) {
    const KeyValue kv = ToKeyValue(*hit.key, *hit.revision);
    if (!CompareHolds(compare, &kv)) return false;
  }
  return true;
}

// etcd's compareToPath: one bool per txn (this one, then nested ones in the
// branch that runs, depth first), all judged on the state before the txn.
void MvccStore::ComputePath(const TxnRequest& txn, std::vector<bool>& path) const {
  const bool succeeded = std::all_of(txn.compare.begin(), txn.compare.end(),
                                     [this](const Compare& c) { return EvaluateCompare(c); });
  path.push_back(succeeded);
  for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
    if (const auto* nested = std::get_if<TxnRequest>(&op.request)) ComputePath(*nested, path);
  }
}

std::optional<KvError> MvccStore::CheckPath(const TxnRequest& txn, const std::vector<bool>& path,
                                            std::size_t& at, bool puts_pass,
                                            std::uint64_t& put_bytes) const {
  TRI_ASSERT(at < path.size());
  const bool succeeded = path[at++];
  for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
    if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
      if (auto error = CheckPath(*nested, path, at, puts_pass, put_bytes)) return error;
    } else if (const auto* put = std::get_if<PutRequest>(&op.request); put && puts_pass) {
      if (put->ignore_value || put->ignore_lease) {
        auto it = index_.find(put->key);
        if (it == index_.end() || VisibleAt(it->second, current_revision_) == nullptr) {
          return ErrKeyNotFound();
        }
      }
      if (auto error = CheckLease(put->lease, put->key)) return error;
      put_bytes += PutCost(*put);
    } else if (const auto* range = std::get_if<RangeRequest>(&op.request); range && !puts_pass) {
      if (auto error = CheckRangeRevision(range->revision)) return error;
    }
  }
  return std::nullopt;
}

TxnResponse MvccStore::ExecuteTxn(WriteTxn& write, const TxnRequest& txn,
                                  const std::vector<bool>& path, std::size_t& at) {
  TRI_ASSERT(at < path.size());
  TxnResponse response;
  response.succeeded = path[at++];
  const std::vector<RequestOp>& ops = response.succeeded ? txn.success : txn.failure;
  response.responses.reserve(ops.size());
  for (const RequestOp& op : ops) {
    ResponseOp& out = response.responses.emplace_back();
    if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
      out.response = RangeAt(*range, write.read_revision());
    } else if (const auto* put = std::get_if<PutRequest>(&op.request)) {
      PutResponse put_response;
      auto it = index_.find(put->key);
      const KeyRevision* current =
          it == index_.end() ? nullptr : VisibleAt(it->second, write.read_revision());
      TRI_ASSERT(current != nullptr || !(put->ignore_value || put->ignore_lease));
      if (put->prev_kv && current != nullptr) put_response.prev_kv = ToKeyValue(put->key, *current);
      std::string value = put->ignore_value ? current->value : put->value;
      const std::int64_t lease = put->ignore_lease ? current->lease : put->lease;
      write.Put(put->key, std::move(value), lease);
      put_response.header.revision = write.revision();
      out.response = std::move(put_response);
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
      DeleteRangeResponse del_response;
      if (del->prev_kv) {
        for (const Hit& hit : LiveHits(del->key, del->range_end, write.read_revision())) {
          if (!IsReservedKey(*hit.key))
            del_response.prev_kvs.push_back(ToKeyValue(*hit.key, *hit.revision));
        }
      }
      del_response.deleted = write.Delete(del->key, del->range_end, /*skip_reserved=*/true);
      del_response.header.revision = write.read_revision();
      out.response = std::move(del_response);
    } else {
      // etcd leaves a nested txn's header empty.
      out.response = ExecuteTxn(write, std::get<TxnRequest>(op.request), path, at);
    }
  }
  return response;
}

KvOr<TxnResponse> MvccStore::Txn(const TxnRequest& request) {
  if (auto error = ValidateTxn(request, options_)) return *error;
  std::vector<bool> path;
  ComputePath(request, path);
  return TxnOnPath(request, path);
}

KvOr<TxnResponse> MvccStore::TxnOnPath(const TxnRequest& request, const std::vector<bool>& path) {
  std::uint64_t put_bytes = 0;
  for (const bool puts_pass : {true, false}) {
    std::size_t at = 0;
    if (auto error = CheckPath(request, path, at, puts_pass, put_bytes)) return *error;
    TRI_ASSERT(at == path.size());
  }
  if (auto error = ReserveQuota(put_bytes)) return *error;

  const std::int64_t revision_before = current_revision_;
  const std::uint64_t used_before = used_bytes_;
  WriteTxn write(*this);
  std::size_t at = 0;
  TxnResponse response = ExecuteTxn(write, request, path, at);
  TRI_ASSERT(at == path.size());
  write.Commit();
  // Puts grow state by exactly the bytes reserved (deletes add tombstones on top).
  TRI_ASSERT(used_bytes_ >= used_before + put_bytes);
  TRI_ASSERT(current_revision_ == revision_before || current_revision_ == revision_before + 1);
  response.header.revision = current_revision_;
  return response;
}

KvOr<CompactionResponse> MvccStore::Compact(const CompactionRequest& request) {
  if (request.revision <= compact_revision_) return ErrCompacted();
  if (request.revision > current_revision_) return ErrFutureRev();
  const std::int64_t revision = request.revision;
  for (auto it = index_.begin(); it != index_.end();) {
    History& history = it->second;
    // Keep the last revision <= `revision` unless it is a tombstone, and all after.
    auto keep =
        std::upper_bound(history.begin(), history.end(), revision,
                         [](std::int64_t rev, const KeyRevision& r) { return rev < r.main; });
    if (keep != history.begin()) {
      --keep;
      if (keep->tombstone) ++keep;
    }
    for (auto dropped = history.begin(); dropped != keep; ++dropped) {
      const std::uint64_t bytes = RevisionBytes(it->first, *dropped);
      TRI_ASSERT(used_bytes_ >= bytes);
      used_bytes_ -= bytes;
    }
    history.erase(history.begin(), keep);
    if (history.empty()) {
      it = index_.erase(it);
    } else {
      TRI_ASSERT(!history.front().tombstone);
      ++it;
    }
  }
  compact_revision_ = revision;
  CompactionResponse response;
  response.header.revision = current_revision_;
  return response;
}

KvOr<HashKVResponse> MvccStore::HashKV(std::int64_t revision) const {
  if (revision > 0 && revision <= compact_revision_) return ErrCompacted();
  if (revision > current_revision_) return ErrFutureRev();
  const std::int64_t upto = revision > 0 ? revision : current_revision_;
  std::uint32_t crc = 0;
  std::string buffer;
  for (const auto& [key, history] : index_) {
    for (const KeyRevision& r : history) {
      if (r.main > upto) break;
      buffer.clear();
      coding::PutLengthPrefixed(buffer, key);
      coding::PutVarint64(buffer, static_cast<std::uint64_t>(r.main));
      coding::PutVarint64(buffer, static_cast<std::uint64_t>(r.sub));
      coding::PutFixed8(buffer, r.tombstone ? 1 : 0);
      coding::PutVarint64(buffer, static_cast<std::uint64_t>(r.create_revision));
      coding::PutVarint64(buffer, static_cast<std::uint64_t>(r.version));
      PutSignedVarint(buffer, r.lease);
      coding::PutLengthPrefixed(buffer, r.value);
      crc = crc32c::Extend(crc, buffer.data(), buffer.size());
    }
  }
  buffer.clear();
  coding::PutFixed64(buffer, static_cast<std::uint64_t>(compact_revision_));
  crc = crc32c::Extend(crc, buffer.data(), buffer.size());
  HashKVResponse response;
  response.header.revision = current_revision_;
  response.hash = crc;
  response.compact_revision = compact_revision_;
  return response;
}

KvOr<AlarmResponse> MvccStore::Alarm(const AlarmRequest& request) {
  AlarmResponse response;
  response.header.revision = current_revision_;
  if (request.action == AlarmRequest::GET) {
    if (nospace_alarm_) response.alarms.push_back(AlarmMember{0, AlarmType::NOSPACE});
    return response;
  }
  if (request.alarm != AlarmType::NOSPACE) {
    return ErrUnimplemented("alarm type " + std::to_string(static_cast<int>(request.alarm)) +
                            " (only NOSPACE is kept by the state machine)");
  }
  if (request.action == AlarmRequest::ACTIVATE) {
    nospace_alarm_ = true;
    response.alarms.push_back(AlarmMember{request.member_id, AlarmType::NOSPACE});
    return response;
  }
  TRI_ASSERT(request.action == AlarmRequest::DEACTIVATE);
  if (!nospace_alarm_) return response;
  if (used_bytes_ > options_.quota_bytes) return ErrNoSpace();
  nospace_alarm_ = false;
  response.alarms.push_back(AlarmMember{request.member_id, AlarmType::NOSPACE});
  return response;
}

void MvccStore::WriteReserved(const std::vector<ReservedWrite>& writes) {
  WriteTxn write(*this);
  AddReservedWrites(write, writes);
  write.Commit();
}

void MvccStore::AddReservedWrites(WriteTxn& write, const std::vector<ReservedWrite>& writes) {
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const ReservedWrite& w = writes[i];
    TRI_ASSERT_MSG(IsReservedKey(w.key), "WriteReserved of a key outside the reserved prefix");
    for (std::size_t j = 0; j < i; ++j)
      TRI_ASSERT(writes[j].key != w.key);
    if (w.value.has_value()) {
      write.Put(w.key, *w.value, 0);
    } else {
      write.Delete(w.key, "");
    }
  }
}

}  // namespace tri::rsm
