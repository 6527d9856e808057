#include "routing/steal_codec.h"

#include "base/assert.h"
#include "base/coding.h"

namespace tri::routing {

namespace {

using coding::Decoder;
using coding::PutFixed8;
using coding::PutLengthPrefixed;
using coding::PutVarint64;

Status Bad(const Decoder& d, const std::string& what) {
  return Corruption("steal message: " + what + " at byte " + std::to_string(d.position()));
}

}  // namespace

std::string EncodeStealMessage(const StealMessage& m) {
  std::string out;
  PutFixed8(out, kStealCodecVersion);
  PutFixed8(out, static_cast<std::uint8_t>(m.kind));
  PutLengthPrefixed(out, m.from);
  PutLengthPrefixed(out, m.to);
  PutVarint64(out, m.steal_id);
  PutVarint64(out, m.max_tasks);
  PutVarint64(out, m.queued);
  PutVarint64(out, m.tasks.size());
  for (const StealTask& t : m.tasks) {
    TRI_ASSERT(t.offers <= kMaxShareOffers);
    PutVarint64(out, t.id);
    PutVarint64(out, t.cost);
    PutFixed8(out, static_cast<std::uint8_t>((t.pinned ? 1u : 0u) | (t.offers << 1)));
  }
  return out;
}

Result<StealMessage> DecodeStealMessage(std::string_view bytes, const StealCodecLimits& limits) {
  Decoder d(bytes);
  StealMessage m;
  std::uint8_t version = 0;
  if (!d.ReadFixed8(version)) return Bad(d, "truncated version");
  if (version != kStealCodecVersion) {
    return Bad(d, "unsupported version " + std::to_string(version));
  }
  std::uint8_t kind = 0;
  if (!d.ReadFixed8(kind)) return Bad(d, "truncated kind");
  if (kind < 1 || kind > 5) return Bad(d, "unknown kind " + std::to_string(kind));
  m.kind = static_cast<StealKind>(kind);
  if (!d.ReadLengthPrefixed(m.from, limits.max_name_bytes) || m.from.empty()) {
    return Bad(d, "bad sender name (empty, truncated or over " +
                      std::to_string(limits.max_name_bytes) + " bytes)");
  }
  if (!d.ReadLengthPrefixed(m.to, limits.max_name_bytes) || m.to.empty()) {
    return Bad(d, "bad receiver name (empty, truncated or over " +
                      std::to_string(limits.max_name_bytes) + " bytes)");
  }
  if (!d.ReadVarint64(m.steal_id)) return Bad(d, "bad steal_id");
  if (!d.ReadVarint32(m.max_tasks)) return Bad(d, "bad max_tasks");
  if (!d.ReadVarint32(m.queued)) return Bad(d, "bad queued");
  std::uint64_t count = 0;
  if (!d.ReadVarint64(count)) return Bad(d, "bad task count");
  if (count > limits.max_tasks) {
    return Bad(d, "task count " + std::to_string(count) + " over the limit " +
                      std::to_string(limits.max_tasks));
  }
  // Each task takes at least 3 bytes: a count the input cannot hold is refused
  // before anything is allocated for it.
  if (count > d.remaining() / 3)
    return Bad(d, "task count " + std::to_string(count) + " truncated");
  m.tasks.reserve(count);
  for (std::uint64_t i = 0; i < count; ++i) {
    StealTask t;
    std::uint8_t flags = 0;
    if (!d.ReadVarint64(t.id) || !d.ReadVarint64(t.cost) || !d.ReadFixed8(flags)) {
      return Bad(d, "bad task " + std::to_string(i));
    }
    // Bit 0: pinned; bits 1-3: share offers (0-7); the rest must be clear.
    if ((flags & ~0x0fu) != 0) {
      return Bad(d, "task " + std::to_string(i) + " has unknown flags " + std::to_string(flags));
    }
    t.pinned = (flags & 1u) != 0;
    t.offers = static_cast<std::uint8_t>((flags >> 1) & 0x07u);
    m.tasks.push_back(t);
  }
  if (!d.done()) return Bad(d, std::to_string(d.remaining()) + " trailing bytes");
  return m;
}

}  // namespace tri::routing
