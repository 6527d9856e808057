#include "rsm/state_machine.h"

#include <algorithm>
#include <string>
#include <utility>

#include "base/assert.h"
#include "base/coding.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"

namespace tri::rsm {

namespace {

template <typename T>
KvOr<Response> Widen(KvOr<T> result) {
  if (!result.ok()) return result.error();
  return Response(std::move(result).value());
}

}  // namespace

StateMachine::StateMachine(KvOptions options, SagaOptions saga_options)
    : options_(options), store_(options), sagas_(std::move(saga_options)) {}

Applied StateMachine::Apply(std::uint64_t index, std::string_view data) {
  TRI_ASSERT_MSG(index > applied_index_, "entries must be applied in increasing index order");
  const std::int64_t revision_before = store_.current_revision();
  applied_index_ = index;
  auto command = DecodeCommand(data);
  if (!command.ok()) {
    return Applied{
        index, 0, store_.current_revision(),
        ErrMalformed("entry " + std::to_string(index) + ": " + command.status().message())};
  }
  time_ms_ = std::max(time_ms_, command->timestamp_ms);
  KvOr<Response> result = ErrRequestTooLarge();
  std::optional<SagaReply> saga_reply;
  // Saga documents have their own (larger) bound, checked when they decode.
  const std::uint64_t max_payload = command->kind == CommandKind::kSaga
                                        ? sagas_.options().limits.max_document_bytes + 4096
                                        : options_.max_request_bytes;
  if (command->payload.size() <= max_payload) {
    switch (command->kind) {
      case CommandKind::kKv:
        result = ApplyKv(index, command->payload);
        break;
      case CommandKind::kAlarm:
        result = ApplyAlarm(index, command->payload);
        break;
      case CommandKind::kSaga:
        result = ApplySaga(index, command->payload, saga_reply);
        break;
      default:
        result =
            ErrUnimplemented("command kind " + std::to_string(static_cast<int>(command->kind)) +
                             " at entry " + std::to_string(index));
    }
  }
  TRI_ASSERT(store_.current_revision() == revision_before ||
             store_.current_revision() == revision_before + 1);
  TRI_ASSERT(applied_index_ == index);
  // Time passing alone (any entry) drops finished sagas past retention.
  sagas_.Sweep(time_ms_);
  return Applied{index, command->request_id, store_.current_revision(), std::move(result),
                 std::move(saga_reply)};
}

KvOr<Response> StateMachine::ApplyKv(std::uint64_t index, std::string_view payload) {
  auto request = DecodeKvRequest(payload, KvDecodeLimits{options_.max_txn_depth});
  if (!request.ok()) {
    return ErrMalformed("entry " + std::to_string(index) + ": " + request.status().message());
  }
  return std::visit(
      [this](const auto& r) -> KvOr<Response> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, RangeRequest>) {
          return Widen(store_.Range(r));
        } else if constexpr (std::is_same_v<T, PutRequest>) {
          return Widen(store_.Put(r));
        } else if constexpr (std::is_same_v<T, DeleteRangeRequest>) {
          return Widen(store_.DeleteRange(r));
        } else if constexpr (std::is_same_v<T, TxnRequest>) {
          return Widen(store_.Txn(r));
        } else {
          return Widen(store_.Compact(r));
        }
      },
      *request);
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

std::string StateMachine::Snapshot() const {
  std::string out;
  out.append(kStateSnapshotMagic);
  coding::PutFixed32(out, kStateSnapshotVersion);
  coding::PutVarint64(out, applied_index_);
  coding::PutVarint64(out, time_ms_);
  store_.EncodeTo(out);
  sagas_.EncodeTo(out);
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
  if (version != kStateSnapshotVersion && version != 1) {
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
  if (!in.done()) {
    return InvalidArgument("rsm snapshot: " + std::to_string(in.remaining()) +
                           " trailing bytes at byte " + std::to_string(in.position()));
  }
  store_ = std::move(store).value();
  sagas_ = std::move(sagas).value();
  applied_index_ = applied_index;
  time_ms_ = time_ms;
  ++restore_epoch_;
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
