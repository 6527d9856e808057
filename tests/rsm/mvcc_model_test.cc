// MvccStore against a deliberately naive model: every write ever made kept in
// one vector of (revision, key, value or tombstone), every question answered by
// scanning it. Random puts, deletes, txns, ranges (historical ones included) and
// compactions must get identical answers (responses and errors) from both.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "random_requests.h"
#include "rsm/mvcc_store.h"

namespace tri::rsm {
namespace {

class NaiveModel {
 public:
  KvOr<RangeResponse> Range(const RangeRequest& r) const {
    if (r.revision > current_) return ErrFutureRev();
    if (r.revision > 0 && r.revision < compacted_) return ErrCompacted();
    return RangeAt(r, current_);
  }

  KvOr<PutResponse> Put(const PutRequest& r) {
    const auto current = Get(r.key, current_);
    if (r.ignore_value && !current) return ErrKeyNotFound();
    PutResponse response;
    if (r.prev_kv) response.prev_kv = current;
    writes_.push_back({++current_, r.key, r.ignore_value ? current->value : r.value});
    response.header.revision = current_;
    return response;
  }

  KvOr<DeleteRangeResponse> DeleteRange(const DeleteRangeRequest& r) {
    DeleteRangeResponse response;
    const std::int64_t revision = current_ + 1;
    for (const std::string& key : KeysIn(r.key, r.range_end)) {
      auto kv = Get(key, current_);
      if (!kv) continue;
      if (r.prev_kv) response.prev_kvs.push_back(*kv);
      writes_.push_back({revision, key, std::nullopt});
      ++response.deleted;
    }
    if (response.deleted > 0) current_ = revision;
    response.header.revision = current_;
    return response;
  }

  // Only txns from GenTxn: every key written at most once.
  KvOr<TxnResponse> Txn(const TxnRequest& t) {
    if (!IgnoredValuesExist(t)) return ErrKeyNotFound();
    const std::int64_t revision = current_ + 1;
    bool changed = false;
    TxnResponse response = Execute(t, revision, changed);
    if (changed) current_ = revision;
    response.header.revision = current_;
    return response;
  }

  KvOr<CompactionResponse> Compact(const CompactionRequest& r) {
    if (r.revision <= compacted_) return ErrCompacted();
    if (r.revision > current_) return ErrFutureRev();
    compacted_ = r.revision;
    return CompactionResponse{ResponseHeader{current_}};
  }

  std::int64_t current() const { return current_; }

 private:
  struct Write {
    std::int64_t revision;
    std::string key;
    std::optional<std::string> value;  // nullopt: tombstone
  };

  static bool InRange(const std::string& k, const std::string& key, const std::string& end) {
    if (end.empty()) return k == key;
    if (end == std::string(1, '\0')) return k >= key;
    return key <= k && k < end;
  }

  std::vector<std::string> KeysIn(const std::string& key, const std::string& end) const {
    std::set<std::string> keys;
    for (const Write& w : writes_) {
      if (InRange(w.key, key, end)) keys.insert(w.key);
    }
    return {keys.begin(), keys.end()};
  }

  // Replays the key's writes up to `revision`.
  std::optional<KeyValue> Get(const std::string& key, std::int64_t revision) const {
    std::optional<KeyValue> kv;
    for (const Write& w : writes_) {
      if (w.key != key || w.revision > revision) continue;
      if (!w.value) {
        kv.reset();
      } else if (!kv) {
        kv = KeyValue{key, w.revision, w.revision, 1, *w.value, 0};
      } else {
        kv->mod_revision = w.revision;
        ++kv->version;
        kv->value = *w.value;
      }
    }
    return kv;
  }

  RangeResponse RangeAt(const RangeRequest& r, std::int64_t read) const {
    const std::int64_t revision = r.revision > 0 ? r.revision : read;
    std::vector<KeyValue> kvs;
    for (const std::string& key : KeysIn(r.key, r.range_end)) {
      if (auto kv = Get(key, revision)) kvs.push_back(*kv);
    }
    RangeResponse response;
    response.header.revision = read;
    response.count = static_cast<std::int64_t>(kvs.size());
    if (r.count_only) return response;
    std::vector<KeyValue> kept;
    for (const KeyValue& kv : kvs) {
      if (r.max_mod_revision != 0 && kv.mod_revision > r.max_mod_revision) continue;
      if (r.min_mod_revision != 0 && kv.mod_revision < r.min_mod_revision) continue;
      if (r.max_create_revision != 0 && kv.create_revision > r.max_create_revision) continue;
      if (r.min_create_revision != 0 && kv.create_revision < r.min_create_revision) continue;
      kept.push_back(kv);
    }
    auto field = [&r](const KeyValue& kv) -> std::string {
      // Orders every target as a string of fixed width (values compare as bytes).
      auto padded = [](std::int64_t v) {
        std::string s = std::to_string(v);
        return std::string(20 - s.size(), '0') + s;
      };
      switch (r.sort_target) {
        case RangeRequest::KEY:
          return kv.key;
        case RangeRequest::VERSION:
          return padded(kv.version);
        case RangeRequest::CREATE:
          return padded(kv.create_revision);
        case RangeRequest::MOD:
          return padded(kv.mod_revision);
        case RangeRequest::VALUE:
          return kv.value;
      }
      return "";
    };
    std::stable_sort(kept.begin(), kept.end(), [&field](const KeyValue& a, const KeyValue& b) {
      return field(a) < field(b);
    });
    if (r.sort_order == RangeRequest::DESCEND) std::reverse(kept.begin(), kept.end());
    if (r.limit > 0 && kept.size() > static_cast<std::size_t>(r.limit)) {
      kept.resize(static_cast<std::size_t>(r.limit));
      response.more = true;
    }
    if (r.keys_only) {
      for (KeyValue& kv : kept)
        kv.value.clear();
    }
    response.kvs = std::move(kept);
    return response;
  }

  // Every put with ignore_value on the branches that will run names a key that
  // exists before the txn.
  bool IgnoredValuesExist(const TxnRequest& t) const {
    const bool succeeded = std::all_of(t.compare.begin(), t.compare.end(),
                                       [this](const Compare& c) { return Holds(c); });
    for (const RequestOp& op : succeeded ? t.success : t.failure) {
      if (const auto* put = std::get_if<PutRequest>(&op.request)) {
        if (put->ignore_value && !Get(put->key, current_)) return false;
      } else if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
        if (!IgnoredValuesExist(*nested)) return false;
      }
    }
    return true;
  }

  // Runs the txn's branch; writes go in at `revision` but current_ stays put
  // until the end, so Holds (which reads at current_) judges every compare,
  // nested ones included, on the state before the txn.
  TxnResponse Execute(const TxnRequest& t, std::int64_t revision, bool& changed) {
    TxnResponse response;
    response.succeeded = std::all_of(t.compare.begin(), t.compare.end(),
                                     [this](const Compare& c) { return Holds(c); });
    for (const RequestOp& op : response.succeeded ? t.success : t.failure) {
      const std::int64_t read = changed ? revision : current_;
      if (const auto* range = std::get_if<RangeRequest>(&op.request)) {
        response.responses.push_back(ResponseOp{RangeAt(*range, read)});
      } else if (const auto* put = std::get_if<PutRequest>(&op.request)) {
        const auto before = Get(put->key, read);
        PutResponse p;
        if (put->prev_kv) p.prev_kv = before;
        writes_.push_back({revision, put->key, put->ignore_value ? before->value : put->value});
        changed = true;
        p.header.revision = revision;
        response.responses.push_back(ResponseOp{p});
      } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
        DeleteRangeResponse d;
        for (const std::string& key : KeysIn(del->key, del->range_end)) {
          auto kv = Get(key, read);
          if (!kv) continue;
          if (del->prev_kv) d.prev_kvs.push_back(*kv);
          writes_.push_back({revision, key, std::nullopt});
          ++d.deleted;
          changed = true;
        }
        d.header.revision = changed ? revision : current_;
        response.responses.push_back(ResponseOp{d});
      } else {
        response.responses.push_back(
            ResponseOp{Execute(std::get<TxnRequest>(op.request), revision, changed)});
      }
    }
    return response;
  }

  bool Holds(const Compare& c) const {
    const std::vector<std::string> keys = KeysIn(c.key, c.range_end);
    std::vector<KeyValue> live;
    for (const std::string& key : keys) {
      if (auto kv = Get(key, current_)) live.push_back(*kv);
    }
    if (live.empty()) {
      if (c.target == Compare::VALUE) return false;
      live.push_back(KeyValue{});
    }
    for (const KeyValue& kv : live) {
      int cmp = 0;
      switch (c.target) {
        case Compare::VALUE:
          cmp = kv.value < c.value ? -1 : (kv.value == c.value ? 0 : 1);
          break;
        case Compare::VERSION:
          cmp = kv.version < c.version ? -1 : (kv.version == c.version ? 0 : 1);
          break;
        case Compare::CREATE:
          cmp = kv.create_revision < c.create_revision
                    ? -1
                    : (kv.create_revision == c.create_revision ? 0 : 1);
          break;
        case Compare::MOD:
          cmp = kv.mod_revision < c.mod_revision ? -1 : (kv.mod_revision == c.mod_revision ? 0 : 1);
          break;
        case Compare::LEASE:
          cmp = kv.lease < c.lease ? -1 : (kv.lease == c.lease ? 0 : 1);
          break;
      }
      const bool holds = c.result == Compare::EQUAL       ? cmp == 0
                         : c.result == Compare::NOT_EQUAL ? cmp != 0
                         : c.result == Compare::GREATER   ? cmp > 0
                                                          : cmp < 0;
      if (!holds) return false;
    }
    return true;
  }

  std::vector<Write> writes_;
  std::int64_t current_ = 1;
  std::int64_t compacted_ = 0;
};

template <typename T>
void ExpectSame(const KvOr<T>& store, const KvOr<T>& model) {
  RC_ASSERT(store.ok() == model.ok());
  if (store.ok()) {
    RC_ASSERT(*store == *model);
  } else {
    RC_ASSERT(store.error() == model.error());
  }
}

RC_GTEST_PROP(MvccModel, StoreAnswersEveryRequestLikeTheNaiveModel, ()) {
  MvccStore store;
  NaiveModel model;
  const int steps = testing::Uniform<int>(1, 120);
  for (int i = 0; i < steps; ++i) {
    const KvRequest request =
        testing::GenRequest({store.current_revision(), store.compact_revision()});
    if (const auto* r = std::get_if<RangeRequest>(&request)) {
      ExpectSame(store.Range(*r), model.Range(*r));
    } else if (const auto* p = std::get_if<PutRequest>(&request)) {
      ExpectSame(store.Put(*p), model.Put(*p));
    } else if (const auto* d = std::get_if<DeleteRangeRequest>(&request)) {
      ExpectSame(store.DeleteRange(*d), model.DeleteRange(*d));
    } else if (const auto* t = std::get_if<TxnRequest>(&request)) {
      ExpectSame(store.Txn(*t), model.Txn(*t));
    } else {
      ExpectSame(store.Compact(std::get<CompactionRequest>(request)),
                 model.Compact(std::get<CompactionRequest>(request)));
    }
    RC_ASSERT(store.current_revision() == model.current());
  }
}

}  // namespace
}  // namespace tri::rsm
