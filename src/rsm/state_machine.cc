#include "rsm/state_machine.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"
#include "base/coding.h"
#include "rsm/kv_codec.h"

namespace tri::rsm {

namespace {

template <typename T>
KvOr<Response> Widen(KvOr<T> result) {
  if (!result.ok()) return result.error();
  return Response(std::move(result).value());
}

}  // namespace

StateMachine::StateMachine(KvOptions options, SagaOptions saga_options, LeaseOptions lease_options,
                           CoordinationOptions coordination_options)
    : options_(options),
      store_(options),
      sagas_(std::move(saga_options)),
      leases_(lease_options),
      locks_(coordination_options.locks),
      barriers_(coordination_options.barriers) {
  store_.set_lease_hook(&leases_);
}

StateMachine::StateMachine(StateMachine&& other) noexcept
    : options_(other.options_),
      store_(std::move(other.store_)),
      sagas_(std::move(other.sagas_)),
      leases_(std::move(other.leases_)),
      locks_(std::move(other.locks_)),
      barriers_(std::move(other.barriers_)),
      applied_index_(other.applied_index_),
      time_ms_(other.time_ms_) {
  store_.set_lease_hook(&leases_);
  other.store_.set_lease_hook(&other.leases_);
}

StateMachine& StateMachine::operator=(StateMachine&& other) noexcept {
  options_ = other.options_;
  store_ = std::move(other.store_);
  sagas_ = std::move(other.sagas_);
  leases_ = std::move(other.leases_);
  locks_ = std::move(other.locks_);
  barriers_ = std::move(other.barriers_);
  applied_index_ = other.applied_index_;
  time_ms_ = other.time_ms_;
  store_.set_lease_hook(&leases_);
  other.store_.set_lease_hook(&other.leases_);
  return *this;
}

Applied StateMachine::Apply(std::uint64_t index, std::string_view data) {
  TRI_ASSERT_MSG(index > applied_index_, "entries must be applied in increasing index order");
  auto command = DecodeCommand(data);
  if (!command.ok()) {
    applied_index_ = index;
    return Applied{
        index, 0, store_.current_revision(),
        ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message())};
  }
  return ApplyCommand(index, *command, nullptr, nullptr);
}

Applied StateMachine::ApplyCommand(std::uint64_t index, const Command& command, const KvRequest* kv,
                                   const std::vector<bool>* txn_path) {
  TRI_ASSERT_MSG(index > applied_index_, "entries must be applied in increasing index order");
  TRI_ASSERT(kv == nullptr || command.kind == CommandKind::kKv);
  const std::int64_t revision_before = store_.current_revision();
  applied_index_ = index;
  time_ms_ = std::max(time_ms_, command.timestamp_ms);
  KvOr<Response> result = ErrRequestTooLarge();
  std::optional<SagaReply> saga_reply;
  std::optional<LeaseReply> lease_reply;
  std::optional<LockReply> lock_reply;
  std::optional<BarrierReply> barrier_reply;
  // Saga documents have their own (larger) bound, checked when they decode.
  const std::uint64_t max_payload = command.kind == CommandKind::kSaga
                                        ? sagas_.options().limits.max_document_bytes + 4096
                                        : options_.max_request_bytes;
  if (command.payload.size() <= max_payload) {
    switch (command.kind) {
      case CommandKind::kKv:
        result = kv != nullptr ? ApplyKvRequest(*kv, txn_path) : ApplyKv(index, command.payload);
        break;
      case CommandKind::kAlarm:
        result = ApplyAlarm(index, command.payload);
        break;
      case CommandKind::kSaga:
        result = ApplySaga(index, command.payload, saga_reply);
        break;
      case CommandKind::kLease:
        result = ApplyLease(index, command.payload, lease_reply);
        break;
      case CommandKind::kLock:
        result = ApplyLock(index, command.payload, lock_reply);
        break;
      case CommandKind::kBarrier:
        result = ApplyBarrier(index, command.payload, barrier_reply);
        break;
      default:
        result = ErrUnimplemented("command kind " + std::to_string(static_cast<int>(command.kind)) +
                                  " at entry " + std::to_string(index));
    }
  } else {
    TRI_ASSERT_MSG(kv == nullptr, "a decoded KV request over max_request_bytes");
  }
  TRI_ASSERT(store_.current_revision() == revision_before ||
             store_.current_revision() == revision_before + 1);
  TRI_ASSERT(applied_index_ == index);
  // Time passing alone (any entry) drops finished sagas past retention.
  sagas_.Sweep(time_ms_);
  return Applied{index,
                 command.request_id,
                 store_.current_revision(),
                 std::move(result),
                 std::move(saga_reply),
                 std::move(lease_reply),
                 std::move(lock_reply),
                 std::move(barrier_reply)};
}

KvOr<Response> StateMachine::ApplyKv(std::uint64_t index, std::string_view payload) {
  auto request = DecodeKvRequest(payload, KvDecodeLimits{options_.max_txn_depth});
  if (!request.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + request.status().message());
  }
  return ApplyKvRequest(*request, nullptr);
}

KvOr<Response> StateMachine::ApplyKvRequest(const KvRequest& request,
                                            const std::vector<bool>* txn_path) {
  return std::visit(
      [this, txn_path](const auto& r) -> KvOr<Response> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RangeRequest>) {
          return Widen(store_.Range(r));
        } else if constexpr (std::is_same_v<T, PutRequest>) {
          return Widen(store_.Put(r));
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          return Widen(store_.DeleteRange(r));
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          return Widen(txn_path != nullptr ? store_.TxnOnPath(r, *txn_path) : store_.Txn(r));
        } else {
          return Widen(store_.Compact(r));
        }
      },
      request);
}

KvOr<Response> StateMachine::ApplyAlarm(std::uint64_t index, std::string_view payload) {
  auto request = DecodeAlarmRequest(payload);
  if (!request.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + request.status().message());
  }
  return Widen(store_.Alarm(*request));
}

KvOr<Response> StateMachine::ApplySaga(std::uint64_t index, std::string_view payload,
                                       std::optional<SagaReply>& reply) {
  auto command = DecodeSagaCommand(
      payload, SagaDecodeLimits{.max_document_bytes = sagas_.options().limits.max_document_bytes});
  if (!command.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message());
  }
  KvOr<SagaReply> applied = sagas_.Apply(index, time_ms_, *command);
  if (!applied.ok()) return applied.error();
  reply = std::move(applied).value();
  return Response(RangeResponse{});
}

KvOr<Response> StateMachine::ApplyLease(std::uint64_t index, std::string_view payload,
                                        std::optional<LeaseReply>& reply) {
  auto command = DecodeLeaseCommand(
      payload, LeaseDecodeLimits{.max_ids = leases_.options().max_ids_per_command});
  if (!command.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message());
  }
  LeaseReply out;
  if (const auto* grant = std::get_if<LeaseGrant>(&*command)) {
    KvOr<std::int64_t> ttl = leases_.Grant(grant->id, grant->ttl_s, time_ms_);
    if (!ttl.ok()) return ttl.error();
    out.id = grant->id;
    out.ttl_s = *ttl;
  } else if (const auto* revoke = std::get_if<LeaseRevoke>(&*command)) {
    if (!leases_.Contains(revoke->id)) return ErrLeaseNotFound();
    out.revoked.push_back(revoke->id);
    RevokeLeases(index, out.revoked);
  } else if (const auto* keep_alive = std::get_if<LeaseKeepAlive>(&*command)) {
    for (const std::int64_t id : keep_alive->ids) {
      out.renewed.push_back(LeaseTtl{id, leases_.Renew(id, time_ms_).value_or(0)});
    }
  } else if (const auto* expire = std::get_if<LeaseExpire>(&*command)) {
    for (const std::int64_t id : expire->ids) {
      const Lease* lease = leases_.Find(id);
      if (lease == nullptr || lease->expiry_ms > time_ms_) continue;
      if (std::find(out.revoked.begin(), out.revoked.end(), id) != out.revoked.end()) continue;
      out.revoked.push_back(id);
    }
    RevokeLeases(index, out.revoked);
  } else {
    leases_.Promote(time_ms_);
  }
  reply = std::move(out);
  return Response(RangeResponse{});
}

KvOr<Response> StateMachine::ApplyLock(std::uint64_t index, std::string_view payload,
                                       std::optional<LockReply>& reply) {
  auto command = DecodeLockCommand(payload);
  if (!command.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message());
  }
  KvOr<LockReply> applied =
      locks_.Apply(index, *command, [this](std::int64_t lease) { return leases_.Contains(lease); });
  if (!applied.ok()) return applied.error();
  store_.WriteReserved(applied->fence_writes);
  reply = std::move(applied).value();
  return Response(RangeResponse{});
}

KvOr<Response> StateMachine::ApplyBarrier(std::uint64_t index, std::string_view payload,
                                          std::optional<BarrierReply>& reply) {
  auto command = DecodeBarrierCommand(payload);
  if (!command.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message());
  }
  KvOr<BarrierReply> applied = barriers_.Apply(index, time_ms_, *command);
  if (!applied.ok()) return applied.error();
  reply = std::move(applied).value();
  return Response(RangeResponse{});
}

void StateMachine::RevokeLeases(std::uint64_t index, const std::vector<std::int64_t>& ids) {
  if (ids.empty()) return;
  std::vector<std::string> keys;
  for (const std::int64_t id : ids) {
    const Lease* lease = leases_.Find(id);
    TRI_ASSERT_MSG(lease != nullptr, "revoking a lease that does not exist");
    keys.insert(keys.end(), lease->keys.begin(), lease->keys.end());
  }
  // Deleting detaches each key from its lease (through the store's lease hook);
  // the locks held under these leases change hands in the same revision.
  store_.DeleteKeys(keys, locks_.OnLeasesRevoked(ids, index));
  for (const std::int64_t id : ids)
    leases_.Remove(id);
}

std::string StateMachine::Snapshot() const {
  std::string out;
  out.append(kStateSnapshotMagic);
  coding::PutFixed32(out, kStateSnapshotVersion);
  coding::PutVarint64(out, applied_index_);
  coding::PutVarint64(out, time_ms_);
  store_.EncodeTo(out);
  sagas_.EncodeTo(out);
  leases_.EncodeTo(out);
  locks_.EncodeTo(out);
  barriers_.EncodeTo(out);
  return out;
}

Status StateMachine::Restore(std::string_view snapshot) {
  coding::Decoder in(snapshot);
  std::string_view magic;
  if (!in.ReadBytes(kStateSnapshotMagic.size(), magic) || magic != kStateSnapshotMagic) {
    return InvalidArgument("rsm snapshot: bad magic (not a state machine snapshot)");
  }
  std::uint32_t version = 0;
  if (!in.ReadFixed32(version)) return InvalidArgument("rsm snapshot: truncated format version");
  if (version < 1 || version > kStateSnapshotVersion) {
    return InvalidArgument("rsm snapshot: format version " + std::to_string(version) +
                           " is not supported (this version reads " +
                           std::to_string(kStateSnapshotVersion) + ")");
  }
  std::uint64_t applied_index = 0;
  std::uint64_t time_ms = 0;
  if (!in.ReadVarint64(applied_index) || !in.ReadVarint64(time_ms)) {
    return InvalidArgument("rsm snapshot: applied index or time truncated at byte " +
                           std::to_string(in.position()));
  }
  auto store = MvccStore::DecodeFrom(in, options_);
  if (!store.ok()) return store.status();
  auto sagas = version >= 2 ? SagaTable::DecodeFrom(in, sagas_.options())
                            : Result<SagaTable>(SagaTable(sagas_.options()));
  if (!sagas.ok()) return sagas.status();
  auto leases = version >= 3 ? LeaseTable::DecodeFrom(in, leases_.options())
                             : Result<LeaseTable>(LeaseTable(leases_.options()));
  if (!leases.ok()) return leases.status();
  auto locks = version >= 3 ? LockTable::DecodeFrom(in, locks_.options(), applied_index)
                            : Result<LockTable>(LockTable(locks_.options()));
  if (!locks.ok()) return locks.status();
  auto barriers = version >= 3 ? BarrierTable::DecodeFrom(in, barriers_.options(), applied_index)
                               : Result<BarrierTable>(BarrierTable(barriers_.options()));
  if (!barriers.ok()) return barriers.status();
  // Every live key's lease must exist; the per-lease key sets come from the store.
  TRI_RETURN_IF_ERROR(leases->AttachKeys(store->LeasedKeys()));
  TRI_RETURN_IF_ERROR(CheckCoordination(*store, *leases, *locks));
  if (!in.done()) {
    return InvalidArgument("rsm snapshot: " + std::to_string(in.remaining()) +
                           " trailing bytes at byte " + std::to_string(in.position()));
  }
  store_ = std::move(store).value();
  sagas_ = std::move(sagas).value();
  leases_ = std::move(leases).value();
  locks_ = std::move(locks).value();
  barriers_ = std::move(barriers).value();
  store_.set_lease_hook(&leases_);
  applied_index_ = applied_index;
  time_ms_ = time_ms;
  ++restore_epoch_;
  return Status::Ok();
}

Status StateMachine::CheckCoordination(const MvccStore& store, const LeaseTable& leases,
                                       const LockTable& locks) {
  for (const auto& [lock_name, entry] : locks.locks()) {
    const std::string& name = lock_name;  // a lambda may not capture a structured binding (C++20)
    const auto check = [&](std::int64_t lease, const std::string& owner) -> Status {
      if (lease == 0 || leases.Contains(lease)) return Status::Ok();
      return InvalidArgument("rsm snapshot: lock \"" + name + "\" of owner \"" + owner +
                             "\" is under lease " + std::to_string(lease) +
                             ", which is not in the lease table");
    };
    TRI_RETURN_IF_ERROR(check(entry.holder.lease, entry.holder.owner));
    for (const LockWaiter& w : entry.waiters)
      TRI_RETURN_IF_ERROR(check(w.lease, w.owner));
  }
  std::string reserved_end(kReservedPrefix);
  reserved_end.back() = static_cast<char>(reserved_end.back() + 1);
  RangeRequest fence_keys;
  fence_keys.key = std::string(kReservedPrefix);
  fence_keys.range_end = reserved_end;
  auto stored = store.Range(fence_keys);
  if (!stored.ok()) return InvalidArgument("rsm snapshot: " + stored.error().message);
  const std::vector<ReservedWrite> wanted = locks.FenceState();
  std::vector<ReservedWrite> found;
  for (const KeyValue& kv : stored->kvs)
    found.push_back(ReservedWrite{kv.key, kv.value});
  if (found != wanted) {
    return InvalidArgument("rsm snapshot: the store's " + std::to_string(found.size()) +
                           " keys under \"" + std::string(kReservedPrefix) +
                           "\" do not mirror the lock table's " + std::to_string(wanted.size()) +
                           " holders");
  }
  return Status::Ok();
}

std::uint64_t StateMachine::StateHash() const {
  const std::string bytes = Snapshot();
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (const char c : bytes) {
    hash ^= static_cast<std::uint8_t>(c);
    hash *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return hash;
}

}  // namespace tri::rsm
