#pragma once

// The byte format of work-stealing messages (docs/routing.md, "Messages"), for a
// network driver: EncodeStealMessage / DecodeStealMessage. Version 1, all
// integers little-endian varints (base/coding.h):
//
//   u8 version (1) | u8 kind (1 request, 2 grant, 3 refuse, 4 share, 5 decline)
//   | len-prefixed from | len-prefixed to | varint steal_id
//   | varint max_tasks | varint queued | varint task count
//   | per task: varint id, varint cost, u8 flags (bit 0: pinned; bits 1-3: share
//     offers, 0-7; others zero)
//
// Decoding refuses, with the field and byte offset named, anything Encode would
// not produce: another version or kind, an empty or oversized name, more tasks
// than the limit, unknown flag bits, trailing bytes.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "routing/steal_types.h"

namespace tri::routing {

inline constexpr std::uint8_t kStealCodecVersion = 1;

struct StealCodecLimits {
  std::uint64_t max_name_bytes = 256;
  std::uint64_t max_tasks = 100'000;
};

std::string EncodeStealMessage(const StealMessage& message);

Result<StealMessage> DecodeStealMessage(std::string_view bytes,
                                        const StealCodecLimits& limits = {});

}  // namespace tri::routing
