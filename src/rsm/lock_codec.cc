#include "rsm/lock_codec.h"

#include <type_traits>

#include "base/coding.h"

namespace tri::rsm {

namespace {

enum class Op : std::uint8_t { kAcquire = 1, kRelease = 2, kCancelWait = 3 };

Status Bad(const coding::Decoder& in, const std::string& what) {
  return InvalidArgument("lock command: " + what + " at byte " + std::to_string(in.position()));
}

Status ReadNameAndOwner(coding::Decoder& in, std::uint64_t max_bytes, std::string& name,
                        std::string& owner) {
  if (!in.ReadLengthPrefixed(name, max_bytes)) {
    return Bad(in, "lock name truncated or longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!in.ReadLengthPrefixed(owner, max_bytes)) {
    return Bad(in, "owner truncated or longer than " + std::to_string(max_bytes) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeLockCommand(const LockCommand& command) {
  std::string out;
  std::visit(
      [&out](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, LockAcquireCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kAcquire));
        } else if constexpr (std::is_same_v<T, LockReleaseCommand>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kRelease));
        } else {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kCancelWait));
        }
        coding::PutLengthPrefixed(out, c.name);
        coding::PutLengthPrefixed(out, c.owner);
        if constexpr (std::is_same_v<T, LockAcquireCommand>) {
          coding::PutVarint64(out, static_cast<std::uint64_t>(c.lease));
        }
      },
      command);
  return out;
}

Result<LockCommand> DecodeLockCommand(std::string_view bytes, const LockDecodeLimits& limits) {
  coding::Decoder in(bytes);
  std::uint8_t op = 0;
  if (!in.ReadFixed8(op)) return Bad(in, "operation truncated");
  LockCommand command;
  switch (static_cast<Op>(op)) {
    case Op::kAcquire: {
      LockAcquireCommand c;
      TRI_RETURN_IF_ERROR(ReadNameAndOwner(in, limits.max_field_bytes, c.name, c.owner));
      std::uint64_t lease = 0;
      if (!in.ReadVarint64(lease)) return Bad(in, "lease id truncated");
      c.lease = static_cast<std::int64_t>(lease);
      command = std::move(c);
      break;
    }
    case Op::kRelease: {
      LockReleaseCommand c;
      TRI_RETURN_IF_ERROR(ReadNameAndOwner(in, limits.max_field_bytes, c.name, c.owner));
      command = std::move(c);
      break;
    }
    case Op::kCancelWait: {
      LockCancelWaitCommand c;
      TRI_RETURN_IF_ERROR(ReadNameAndOwner(in, limits.max_field_bytes, c.name, c.owner));
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
