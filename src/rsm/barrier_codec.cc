#include "rsm/barrier_codec.h"

#include <type_traits>

#include "base/coding.h"

namespace tri::rsm {

namespace {

enum class Op : std::uint8_t { kCreate = 1, kArrive = 2, kExpire = 3, kCancel = 4, kRemove = 5 };

Status Bad(const coding::Decoder& in, const std::string& what) {
  return InvalidArgument("barrier command: " + what + " at byte " + std::to_string(in.position()));
}

Status ReadField(coding::Decoder& in, std::uint64_t max_bytes, const char* field,
                 std::string& out) {
  if (!in.ReadLengthPrefixed(out, max_bytes)) {
    return Bad(in, std::string(field) + " truncated or longer than " + std::to_string(max_bytes) +
                       " bytes");
  }
  return Status::Ok();
}

void PutCreate(std::string& out, const BarrierCreateCommand& c) {
  coding::PutLengthPrefixed(out, c.name);
  coding::PutVarint64(out, c.participants);
  coding::PutVarint64(out, c.participant_names.size());
  for (const std::string& p : c.participant_names)
    coding::PutLengthPrefixed(out, p);
  coding::PutFixed8(out, static_cast<std::uint8_t>(c.threshold.kind));
  switch (c.threshold.kind) {
    case BarrierThreshold::Kind::kAll:
      break;
    case BarrierThreshold::Kind::kCount:
      coding::PutVarint64(out, c.threshold.count);
      break;
    case BarrierThreshold::Kind::kFraction:
      coding::PutVarint64(out, c.threshold.numerator);
      coding::PutVarint64(out, c.threshold.denominator);
      break;
  }
  coding::PutVarint64(out, c.timeout_ms);
  coding::PutLengthPrefixed(out, c.predecessor);
}

Result<BarrierCreateCommand> ReadCreate(coding::Decoder& in, const BarrierDecodeLimits& limits) {
  BarrierCreateCommand c;
  TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "barrier name", c.name));
  std::uint64_t names = 0;
  if (!in.ReadVarint32(c.participants)) return Bad(in, "participant count truncated");
  if (!in.ReadVarint64(names) || names > in.remaining() || names > limits.max_participant_names) {
    return Bad(in, "participant name count truncated or above " +
                       std::to_string(limits.max_participant_names));
  }
  c.participant_names.resize(names);
  for (std::string& p : c.participant_names) {
    TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "participant name", p));
  }
  std::uint8_t kind = 0;
  if (!in.ReadFixed8(kind)) return Bad(in, "threshold kind truncated");
  switch (kind) {
    case static_cast<std::uint8_t>(BarrierThreshold::Kind::kAll):
      break;
    case static_cast<std::uint8_t>(BarrierThreshold::Kind::kCount):
      if (!in.ReadVarint32(c.threshold.count)) return Bad(in, "threshold count truncated");
      break;
    case static_cast<std::uint8_t>(BarrierThreshold::Kind::kFraction):
      if (!in.ReadVarint32(c.threshold.numerator) || !in.ReadVarint32(c.threshold.denominator)) {
        return Bad(in, "threshold fraction truncated");
      }
      break;
    default:
      return Bad(in, "unknown threshold kind " + std::to_string(kind));
  }
  c.threshold.kind = static_cast<BarrierThreshold::Kind>(kind);
  if (!in.ReadVarint64(c.timeout_ms)) return Bad(in, "timeout truncated");
  TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "predecessor name", c.predecessor));
  return c;
}

}  // namespace

std::string_view BarrierStateName(BarrierState state) {
  switch (state) {
    case BarrierState::kWaitingForPredecessor:
      return "waiting_for_predecessor";
    case BarrierState::kCollecting:
      return "collecting";
    case BarrierState::kReleased:
      return "released";
    case BarrierState::kTimedOut:
      return "timed_out";
    case BarrierState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::string EncodeBarrierCommand(const BarrierCommand& command) {
  std::string out;
  std::visit(
      [&out](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, BarrierCreateCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kCreate));
          PutCreate(out, c);
        } else if constexpr (std::is_same_v<T, BarrierArriveCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kArrive));
          coding::PutLengthPrefixed(out, c.name);
          coding::PutLengthPrefixed(out, c.participant);
        } else if constexpr (std::is_same_v<T, BarrierExpireCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kExpire));
        } else if constexpr (std::is_same_v<T, BarrierCancelCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kCancel));
          coding::PutLengthPrefixed(out, c.name);
        } else {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kRemove));
          coding::PutLengthPrefixed(out, c.name);
        }
      },
      command);
  return out;
}

Result<BarrierCommand> DecodeBarrierCommand(std::string_view bytes,
                                            const BarrierDecodeLimits& limits) {
  coding::Decoder in(bytes);
  std::uint8_t op = 0;
  if (!in.ReadFixed8(op)) return Bad(in, "operation truncated");
  BarrierCommand command;
  switch (static_cast<Op>(op)) {
    case Op::kCreate: {
      TRI_ASSIGN_OR_RETURN(command, ReadCreate(in, limits));
      break;
    }
    case Op::kArrive: {
      BarrierArriveCommand c;
      TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "barrier name", c.name));
      TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "participant", c.participant));
      command = std::move(c);
      break;
    }
    case Op::kExpire:
      command = BarrierExpireCommand{};
      break;
    case Op::kCancel: {
      BarrierCancelCommand c;
      TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "barrier name", c.name));
      command = std::move(c);
      break;
    }
    case Op::kRemove: {
      BarrierRemoveCommand c;
      TRI_RETURN_IF_ERROR(ReadField(in, limits.max_field_bytes, "barrier name", c.name));
      command = std::move(c);
      break;
    }
    default:
      return Bad(in, "unknown operation " + std::to_string(op));
  }
  if (!in.done()) return Bad(in, std::to_string(in.remaining()) + " trailing bytes");
  return command;
}

}  // namespace tri::rsm
