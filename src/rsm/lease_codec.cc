#include "rsm/lease_codec.h"

#include <type_traits>

#include "base/coding.h"

namespace tri::rsm {

namespace {

enum class Op : std::uint8_t { kGrant = 1, kRevoke = 2, kKeepAlive = 3, kExpire = 4, kPromote = 5 };

void PutId(std::string& out, std::int64_t v) {
  coding::PutVarint64(out, static_cast<std::uint64_t>(v));
}

void PutIds(std::string& out, const std::vector<std::int64_t>& ids) {
  coding::PutVarint64(out, ids.size());
  for (const std::int64_t id : ids)
    PutId(out, id);
}

Status Bad(const coding::Decoder& in, const std::string& what) {
  return InvalidArgument("lease command: " + what + " at byte " + std::to_string(in.position()));
}

bool ReadId(coding::Decoder& in, std::int64_t& v) {
  std::uint64_t raw = 0;
  if (!in.ReadVarint64(raw)) return false;
  v = static_cast<std::int64_t>(raw);
  return true;
}

Result<std::vector<std::int64_t>> ReadIds(coding::Decoder& in, std::uint64_t max_ids) {
  std::uint64_t count = 0;
  if (!in.ReadVarint64(count)) return Bad(in, "id count truncated");
  if (count > max_ids) {
    return Bad(
        in, "id count " + std::to_string(count) + " above the limit of " + std::to_string(max_ids));
  }
  std::vector<std::int64_t> ids;
  ids.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    std::int64_t id = 0;
    if (!ReadId(in, id)) return Bad(in, "id " + std::to_string(i) + " truncated");
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

std::string EncodeLeaseCommand(const LeaseCommand& command) {
  std::string out;
  std::visit(
      [&out](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, LeaseGrant>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kGrant));
          PutId(out, c.id);
          PutId(out, c.ttl_s);
        } else if constexpr (std::is_same_v<T, LeaseRevoke>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kRevoke));
          PutId(out, c.id);
        } else if constexpr (std::is_same_v<T, LeaseKeepAlive>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kKeepAlive));
          PutIds(out, c.ids);
        } else if constexpr (std::is_same_v<T, LeaseExpire>) {
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kExpire));
          PutIds(out, c.ids);
        } else {
          static_assert(std::is_same_v<T, LeasePromote>);
          coding::PutFixed8(out, static_cast<std::uint8_t>(Op::kPromote));
        }
      },
      command);
  return out;
}

Result<LeaseCommand> DecodeLeaseCommand(std::string_view bytes, const LeaseDecodeLimits& limits) {
  coding::Decoder in(bytes);
  std::uint8_t op = 0;
  if (!in.ReadFixed8(op)) return Bad(in, "op truncated");
  LeaseCommand command;
  switch (static_cast<Op>(op)) {
    case Op::kGrant: {
      LeaseGrant grant;
      if (!ReadId(in, grant.id) || !ReadId(in, grant.ttl_s)) return Bad(in, "grant truncated");
      command = grant;
      break;
    }
    case Op::kRevoke: {
      LeaseRevoke revoke;
      if (!ReadId(in, revoke.id)) return Bad(in, "revoke id truncated");
      command = revoke;
      break;
    }
    case Op::kKeepAlive: {
      TRI_ASSIGN_OR_RETURN(auto ids, ReadIds(in, limits.max_ids));
      command = LeaseKeepAlive{std::move(ids)};
      break;
    }
    case Op::kExpire: {
      TRI_ASSIGN_OR_RETURN(auto ids, ReadIds(in, limits.max_ids));
      command = LeaseExpire{std::move(ids)};
      break;
    }
    case Op::kPromote:
      command = LeasePromote{};
      break;
    default:
      return Bad(in, "unknown op " + std::to_string(op));
  }
  if (!in.done()) return Bad(in, std::to_string(in.remaining()) + " trailing bytes");
  return command;
}

}  // namespace tri::rsm
