#pragma once

// The envelope every replicated log entry carries (docs/rsm.md, "Command
// envelope"). The proposing node stamps it; the state machine applies it.
//
// Layout (base/coding.h): format version (fixed8, = kCommandFormatVersion),
// kind (fixed8), request_id (varint64), timestamp_ms (varint64), payload
// (length-prefixed), and nothing after it.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tri::rsm {

inline constexpr std::uint8_t kCommandFormatVersion = 1;

// What the payload is. Values are stable on disk; 7..15 are left for later
// commands so a newer node's entry decodes here as "unknown kind", which the
// state machine refuses without crashing (16 and 17 are the node's own).
enum class CommandKind : std::uint8_t {
  kKv = 1,       // payload: EncodeKvRequest (rsm/kv_codec.h)
  kAlarm = 2,    // payload: EncodeAlarmRequest (disarming the NOSPACE quota alarm)
  kSaga = 3,     // payload: EncodeSagaCommand (rsm/saga_codec.h)
  kLease = 4,    // payload: a lease command (rsm/lease_codec.h)
  kLock = 5,     // payload: a native lock command (rsm/lock_codec.h)
  kBarrier = 6,  // payload: a barrier command (rsm/barrier_codec.h)
};

struct Command {
  CommandKind kind = CommandKind::kKv;
  // Chosen by the proposing node so it can route the applied result back to the
  // waiting client; the state machine only echoes it.
  std::uint64_t request_id = 0;
  // The leader's clock when it proposed, unix milliseconds. The state machine's
  // time is max(previous, this) along the log, never the applying node's clock.
  std::uint64_t timestamp_ms = 0;
  std::string payload;
  friend bool operator==(const Command&, const Command&) = default;
};

std::string EncodeCommand(const Command& command);

// Fails (InvalidArgument, naming the field and byte offset) on a wrong format
// version, truncation, a bad varint, or trailing bytes. An unknown `kind` decodes
// (the envelope is intact) and is left for the state machine to refuse.
Result<Command> DecodeCommand(std::string_view bytes);

}  // namespace tri::rsm
