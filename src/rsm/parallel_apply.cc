// StateMachine::ApplyBatch: runs of KV entries predicted by a txn::BatchExecutor
// and applied in log order (the argument is in rsm/parallel_apply.h).

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "base/assert.h"
#include "base/coding.h"
#include "rsm/kv_codec.h"
#include "rsm/kv_compare.h"
#include "rsm/kv_validate.h"
#include "rsm/state_machine.h"

namespace tri::rsm {

namespace {

// Executor keys: the image of KV key k is kKeyTag + k; entry j's prediction is
// written to kPlanTag + j. The tags keep the two apart whatever the KV key.
constexpr char kKeyTag = 'k';
constexpr char kPlanTag = 'p';

std::string ImageKey(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(kKeyTag);
  out.append(key);
  return out;
}

std::string PlanKey(std::uint32_t entry) {
  std::string out(1, kPlanTag);
  coding::PutFixed32(out, entry);
  return out;
}

// A revision in the image: a number, or "the revision entry `entry` of the
// run will take" (unknown until phase 2).
struct Rev {
  bool symbolic = false;
  std::int64_t value = 0;  // the revision, or the entry when symbolic
};

// A live key in the image.
struct Record {
  std::string value;
  std::int64_t lease = 0;
  std::int64_t version = 0;
  Rev create;
  Rev mod;
};

void PutRev(std::string& out, Rev rev) {
  coding::PutFixed8(out, rev.symbolic ? 1 : 0);
  coding::PutFixed64(out, static_cast<std::uint64_t>(rev.value));
}

std::string EncodeRecord(const Record& r) {
  std::string out;
  out.reserve(r.value.size() + 40);
  coding::PutLengthPrefixed(out, r.value);
  coding::PutFixed64(out, static_cast<std::uint64_t>(r.lease));
  coding::PutFixed64(out, static_cast<std::uint64_t>(r.version));
  PutRev(out, r.create);
  PutRev(out, r.mod);
  return out;
}

Record DecodeRecord(std::string_view bytes) {
  coding::Decoder in(bytes);
  Record r;
  std::uint64_t lease = 0, version = 0, create = 0, mod = 0;
  std::uint8_t create_tag = 0, mod_tag = 0;
  const bool ok = in.ReadLengthPrefixed(r.value) && in.ReadFixed64(lease) &&
                  in.ReadFixed64(version) && in.ReadFixed8(create_tag) && in.ReadFixed64(create) &&
                  in.ReadFixed8(mod_tag) && in.ReadFixed64(mod) && in.done();
  TRI_ASSERT_MSG(ok, "an image record the parallel apply did not write");
  r.lease = static_cast<std::int64_t>(lease);
  r.version = static_cast<std::int64_t>(version);
  r.create = Rev{create_tag != 0, static_cast<std::int64_t>(create)};
  r.mod = Rev{mod_tag != 0, static_cast<std::int64_t>(mod)};
  return r;
}

// The store at the start of the run, as image records. Read by the executor's
// threads while nothing writes the store.
class StoreImage final : public txn::StateView {
 public:
  explicit StoreImage(const MvccStore& store) : store_(store) {}
  std::optional<std::string> Get(std::string_view key) const override {
    if (key.empty() || key[0] != kKeyTag) return std::nullopt;
    std::optional<KeyValue> kv = store_.Current(key.substr(1));
    if (!kv) return std::nullopt;
    return EncodeRecord(Record{std::move(kv->value), kv->lease, kv->version,
                               Rev{false, kv->create_revision}, Rev{false, kv->mod_revision}});
  }

 private:
  const MvccStore& store_;
};

// What phase 1 predicts for an entry (the first byte of its plan).
enum class Prediction : std::uint8_t {
  kReadOnly = 0,  // a Range: nothing to predict, it writes nothing
  kOk = 1,
  kError = 2,
  kSerial = 3,  // the prediction needs a revision number it cannot know
};

// Phase 1 for one entry: the body of its transaction. Mirrors MvccStore's
// checks and writes for the eligible requests (ParseEligible) on the image.
class EntryModel {
 public:
  EntryModel(txn::TxnContext& ctx, std::uint32_t entry, const KvOptions& options,
             const LeaseHook& leases)
      : ctx_(ctx), entry_(entry), options_(options), leases_(leases) {}

  Status Run(const KvRequest& request) {
    Prediction prediction = Prediction::kReadOnly;
    if (const auto* put = std::get_if<PutRequest>(&request)) {
      TRI_ASSIGN_OR_RETURN(prediction, ModelPut(*put));
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&request)) {
      TRI_ASSIGN_OR_RETURN(prediction, ModelDelete(*del));
    } else if (const auto* txn = std::get_if<TxnRequest>(&request)) {
      TRI_ASSIGN_OR_RETURN(prediction, ModelTxn(*txn));
    }
    std::string plan;
    plan.reserve(path_.size() + 1);
    coding::PutFixed8(plan, static_cast<std::uint8_t>(prediction));
    for (const bool step : path_)
      coding::PutFixed8(plan, step ? 1 : 0);
    return ctx_.Write(PlanKey(entry_), plan);
  }

 private:
  Result<std::optional<Record>> Get(const std::string& key) {
    TRI_ASSIGN_OR_RETURN(std::optional<std::string> bytes, ctx_.Read(ImageKey(key)));
    if (!bytes) return std::optional<Record>();
    return std::optional<Record>(DecodeRecord(*bytes));
  }

  // MvccStore::Put's checks before the quota: the quota is not modelled (phase
  // 2 sees a refusal as an outcome that differs from the prediction).
  Result<bool> PutAllowed(const PutRequest& put) {
    if (put.lease != 0 && leases_.CheckAttach(put.lease, put.key)) return false;
    if (put.ignore_value || put.ignore_lease) {
      TRI_ASSIGN_OR_RETURN(std::optional<Record> current, Get(put.key));
      if (!current) return false;
    }
    return true;
  }

  // WriteTxn::Put on the image; `current` is the key's state before the request.
  Status WritePut(const PutRequest& put) {
    TRI_ASSIGN_OR_RETURN(std::optional<Record> current, Get(put.key));
    Record next;
    next.value = put.ignore_value ? current->value : put.value;
    next.lease = put.ignore_lease ? current->lease : put.lease;
    next.version = current ? current->version + 1 : 1;
    next.create = current ? current->create : Rev{true, entry_};
    next.mod = Rev{true, entry_};
    return ctx_.Write(ImageKey(put.key), EncodeRecord(next));
  }

  Status WriteDelete(const std::string& key) {
    TRI_ASSIGN_OR_RETURN(std::optional<Record> current, Get(key));
    if (!current) return Status::Ok();
    return ctx_.Delete(ImageKey(key));
  }

  Result<Prediction> ModelPut(const PutRequest& put) {
    if (ValidatePut(put, options_)) return Prediction::kError;
    TRI_ASSIGN_OR_RETURN(bool allowed, PutAllowed(put));
    if (!allowed) return Prediction::kError;
    TRI_RETURN_IF_ERROR(WritePut(put));
    return Prediction::kOk;
  }

  Result<Prediction> ModelDelete(const DeleteRangeRequest& del) {
    if (ValidateDeleteRange(del, options_)) return Prediction::kError;
    TRI_ASSERT(del.range_end.empty());
    TRI_RETURN_IF_ERROR(WriteDelete(del.key));
    return Prediction::kOk;
  }

  Result<Prediction> ModelTxn(const TxnRequest& txn) {
    if (ValidateTxn(txn, options_)) return Prediction::kError;
    TRI_ASSIGN_OR_RETURN(bool known, ComputePath(txn));
    if (!known) return Prediction::kSerial;
    std::size_t at = 0;
    TRI_ASSIGN_OR_RETURN(bool allowed, CheckPuts(txn, at));
    if (!allowed) return Prediction::kError;
    TRI_ASSERT(at == path_.size());
    at = 0;
    TRI_RETURN_IF_ERROR(Execute(txn, at));
    TRI_ASSERT(at == path_.size());
    return Prediction::kOk;
  }

  // MvccStore::ComputePath on the image. false: a compare needs the number of
  // a revision written inside the run.
  Result<bool> ComputePath(const TxnRequest& txn) {
    bool succeeded = true;
    for (const Compare& compare : txn.compare) {
      TRI_ASSERT(compare.range_end.empty());
      TRI_ASSIGN_OR_RETURN(std::optional<Record> current, Get(compare.key));
      if (!current) {
        succeeded = CompareHolds(compare, nullptr);
      } else {
        if ((compare.target == Compare::CREATE && current->create.symbolic) ||
            (compare.target == Compare::MOD && current->mod.symbolic)) {
          return false;
        }
        const KeyValue kv{compare.key,      current->create.value, current->mod.value,
                          current->version, current->value,        current->lease};
        succeeded = CompareHolds(compare, &kv);
      }
      if (!succeeded) break;
    }
    path_.push_back(succeeded);
    for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
      if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
        TRI_ASSIGN_OR_RETURN(bool known, ComputePath(*nested));
        if (!known) return false;
      }
    }
    return true;
  }

  // The puts pass of MvccStore::CheckPath (the range revisions and the quota
  // are not modelled).
  Result<bool> CheckPuts(const TxnRequest& txn, std::size_t& at) {
    const bool succeeded = path_[at++];
    for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
      if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
        TRI_ASSIGN_OR_RETURN(bool allowed, CheckPuts(*nested, at));
        if (!allowed) return false;
      } else if (const auto* put = std::get_if<PutRequest>(&op.request)) {
        TRI_ASSIGN_OR_RETURN(bool allowed, PutAllowed(*put));
        if (!allowed) return false;
      }
    }
    return true;
  }

  // MvccStore::ExecuteTxn's writes. Each key is written at most once in a txn
  // (ValidateTxn), so every op sees its key as it was before the txn.
  Status Execute(const TxnRequest& txn, std::size_t& at) {
    const bool succeeded = path_[at++];
    for (const RequestOp& op : succeeded ? txn.success : txn.failure) {
      if (const auto* nested = std::get_if<TxnRequest>(&op.request)) {
        TRI_RETURN_IF_ERROR(Execute(*nested, at));
      } else if (const auto* put = std::get_if<PutRequest>(&op.request)) {
        TRI_RETURN_IF_ERROR(WritePut(*put));
      } else if (const auto* del = std::get_if<DeleteRangeRequest>(&op.request)) {
        TRI_ASSERT(del->range_end.empty());
        TRI_RETURN_IF_ERROR(WriteDelete(del->key));
      }
    }
    return Status::Ok();
  }

  txn::TxnContext& ctx_;
  const std::uint32_t entry_;
  const KvOptions& options_;
  const LeaseHook& leases_;
  std::vector<bool> path_;
};

// Whether the model covers the request: every compare and delete names one
// key (a key range's members are not known before the run).
bool Eligible(const KvRequest& request) {
  struct Visitor {
    bool operator()(const RangeRequest&) const { return true; }
    bool operator()(const PutRequest&) const { return true; }
    bool operator()(const DeleteRangeRequest& r) const { return r.range_end.empty(); }
    bool operator()(const CompactionRequest&) const { return false; }
    bool operator()(const TxnRequest& t) const {
      for (const Compare& c : t.compare) {
        if (!c.range_end.empty()) return false;
      }
      for (const auto* branch : {&t.success, &t.failure}) {
        for (const RequestOp& op : *branch) {
          if (!std::visit(*this, op.request)) return false;
        }
      }
      return true;
    }
  };
  return std::visit(Visitor{}, request);
}

// The keys a request's model may read and write, for the declared scheduler.
void DeclareKeys(const KvRequest& request, txn::Transaction& txn) {
  struct Visitor {
    txn::Transaction& txn;
    void operator()(const RangeRequest&) const {}
    void operator()(const CompactionRequest&) const {}
    void operator()(const PutRequest& r) const { txn.write_set.push_back(ImageKey(r.key)); }
    void operator()(const DeleteRangeRequest& r) const { txn.write_set.push_back(ImageKey(r.key)); }
    void operator()(const TxnRequest& t) const {
      for (const Compare& c : t.compare)
        txn.read_set.push_back(ImageKey(c.key));
      for (const auto* branch : {&t.success, &t.failure}) {
        for (const RequestOp& op : *branch)
          std::visit(*this, op.request);
      }
    }
  };
  std::visit(Visitor{txn}, request);
}

struct Plan {
  Prediction prediction = Prediction::kSerial;
  std::vector<bool> path;
};

// The plan entry `entry` wrote, or kSerial when its transaction did not commit
// (a bound of the executor).
Plan ReadPlan(const txn::TxnResult& result, std::uint32_t entry) {
  Plan plan;
  if (result.outcome != txn::Outcome::kCommitted) return plan;
  const std::string key = PlanKey(entry);
  auto it = std::find_if(result.writes.begin(), result.writes.end(),
                         [&key](const txn::KeyWrite& w) { return w.key == key; });
  TRI_ASSERT_MSG(it != result.writes.end() && it->value && !it->value->empty(),
                 "a committed entry model without its plan");
  const std::string& bytes = *it->value;
  plan.prediction = static_cast<Prediction>(bytes[0]);
  plan.path.reserve(bytes.size() - 1);
  for (std::size_t i = 1; i < bytes.size(); ++i)
    plan.path.push_back(bytes[i] != 0);
  return plan;
}

}  // namespace

struct StateMachine::ParsedKv {
  std::uint64_t index = 0;
  Command command;
  KvRequest request;
};

std::optional<StateMachine::ParsedKv> StateMachine::ParseEligible(const BatchEntry& entry) const {
  auto command = DecodeCommand(entry.data);
  if (!command.ok() || command->kind != CommandKind::kKv ||
      command->payload.size() > options_.max_request_bytes) {
    return std::nullopt;
  }
  auto request = DecodeKvRequest(command->payload, KvDecodeLimits{options_.max_txn_depth});
  if (!request.ok() || !Eligible(*request)) return std::nullopt;
  return ParsedKv{entry.index, std::move(command).value(), std::move(request).value()};
}

std::vector<Applied> StateMachine::ApplyBatch(std::span<const BatchEntry> entries,
                                              const ParallelApplyOptions& options) {
  std::vector<Applied> out;
  out.reserve(entries.size());
  const std::size_t min_batch = std::max<std::size_t>(options.min_batch, 1);
  const std::size_t max_batch = std::max(options.max_batch, min_batch);
  if (options.executor == nullptr || entries.size() < min_batch) {
    for (const BatchEntry& entry : entries)
      out.push_back(Apply(entry.index, entry.data));
    if (options.stats != nullptr) options.stats->serial_entries += entries.size();
    return out;
  }
  std::vector<ParsedKv> run;
  std::size_t next = 0;
  while (next < entries.size()) {
    run.clear();
    bool stopped_at_ineligible = false;
    while (next < entries.size() && run.size() < max_batch) {
      std::optional<ParsedKv> parsed = ParseEligible(entries[next]);
      if (!parsed) {
        stopped_at_ineligible = true;
        break;
      }
      run.push_back(std::move(*parsed));
      ++next;
    }
    // Phase 2 repeats all of a Put's, a delete's and a Range's work; only a
    // Txn's checks and compares are saved, so a run without one has nothing
    // to gain from phase 1.
    const bool has_txn = std::any_of(run.begin(), run.end(), [](const ParsedKv& p) {
      return std::holds_alternative<TxnRequest>(p.request);
    });
    if (run.size() >= min_batch && has_txn) {
      ApplyRun(run, options, out);
    } else {
      for (const ParsedKv& p : run)
        out.push_back(ApplyCommand(p.index, p.command, &p.request, nullptr));
      if (options.stats != nullptr) options.stats->serial_entries += run.size();
    }
    if (stopped_at_ineligible) {
      out.push_back(Apply(entries[next].index, entries[next].data));
      if (options.stats != nullptr) ++options.stats->serial_entries;
      ++next;
    }
  }
  return out;
}

void StateMachine::ApplyRun(std::vector<ParsedKv>& run, const ParallelApplyOptions& options,
                            std::vector<Applied>& out) {
  const bool declared = options.scheduler == txn::Scheduler::kDeclared;
  std::vector<txn::Transaction> batch(run.size());
  for (std::size_t j = 0; j < run.size(); ++j) {
    const auto entry = static_cast<std::uint32_t>(j);
    const KvRequest* request = &run[j].request;
    batch[j].body = [this, entry, request](txn::TxnContext& ctx) {
      return EntryModel(ctx, entry, options_, leases_).Run(*request);
    };
    if (declared) {
      DeclareKeys(*request, batch[j]);
      batch[j].write_set.push_back(PlanKey(entry));
    }
  }
  // The executor's bounds must not refuse what the store accepts; a
  // transaction that breaks one anyway only sends its entry to Apply.
  txn::ExecuteOptions execute;
  execute.scheduler = options.scheduler;
  execute.limits.max_batch_size = std::max(execute.limits.max_batch_size, run.size());
  execute.limits.max_key_size = options_.max_key_bytes + 8;
  execute.limits.max_value_size = options_.max_request_bytes + 64;
  execute.limits.max_keys_per_txn = std::numeric_limits<std::size_t>::max() / 2;
  execute.limits.default_gas_budget = execute.limits.max_gas_budget;
  StoreImage image(store_);
  Result<txn::BatchResult> predicted = options.executor->Execute(image, batch, execute);

  ParallelApplyStats* stats = options.stats;
  if (stats != nullptr) ++stats->runs;
  bool serial = !predicted.ok();
  if (serial && stats != nullptr) ++stats->fallbacks;
  for (std::size_t j = 0; j < run.size(); ++j) {
    const ParsedKv& p = run[j];
    Plan plan;
    if (!serial) {
      plan = ReadPlan(predicted->txns[j], static_cast<std::uint32_t>(j));
      if (plan.prediction == Prediction::kSerial) {
        serial = true;
        if (stats != nullptr) ++stats->fallbacks;
      }
    }
    if (serial) {
      out.push_back(ApplyCommand(p.index, p.command, &p.request, nullptr));
      if (stats != nullptr) ++stats->serial_entries;
      continue;
    }
    const bool planned_txn =
        plan.prediction == Prediction::kOk && std::holds_alternative<TxnRequest>(p.request);
    Applied applied =
        ApplyCommand(p.index, p.command, &p.request, planned_txn ? &plan.path : nullptr);
    if (plan.prediction != Prediction::kReadOnly &&
        applied.result.ok() != (plan.prediction == Prediction::kOk)) {
      // The image no longer mirrors the store: the rest of the run by Apply.
      serial = true;
      if (stats != nullptr) ++stats->fallbacks;
    }
    out.push_back(std::move(applied));
    if (stats != nullptr) ++stats->planned_entries;
  }
}

}  // namespace tri::rsm
