#include "rsm/command.h"

#include <string>

#include "base/coding.h"

namespace tri::rsm {

std::string EncodeCommand(const Command& command) {
  std::string out;
  out.reserve(command.payload.size() + 2 + 2 * coding::kMaxVarint64Bytes + 5);
  coding::PutFixed8(out, kCommandFormatVersion);
  coding::PutFixed8(out, static_cast<std::uint8_t>(command.kind));
  coding::PutVarint64(out, command.request_id);
  coding::PutVarint64(out, command.timestamp_ms);
  coding::PutLengthPrefixed(out, command.payload);
  return out;
}

Result<Command> DecodeCommand(std::string_view bytes) {
  coding::Decoder in(bytes);
  std::uint8_t version = 0;
  if (!in.ReadFixed8(version)) return InvalidArgument("command: empty entry, no format version");
  if (version != kCommandFormatVersion) {
    return InvalidArgument("command: format version " + std::to_string(version) +
                           " is not supported (this version reads " +
                           std::to_string(kCommandFormatVersion) + ")");
  }
  Command command;
  std::uint8_t kind = 0;
  if (!in.ReadFixed8(kind)) return InvalidArgument("command: truncated before kind at byte 1");
  command.kind = static_cast<CommandKind>(kind);
  if (!in.ReadVarint64(command.request_id)) {
    return InvalidArgument("command: request_id truncated or bad varint at byte 2");
  }
  const std::size_t timestamp_at = in.position();
  if (!in.ReadVarint64(command.timestamp_ms)) {
    return InvalidArgument("command: timestamp_ms truncated or bad varint at byte " +
                           std::to_string(timestamp_at));
  }
  const std::size_t payload_at = in.position();
  if (!in.ReadLengthPrefixed(command.payload)) {
    return InvalidArgument("command: payload truncated or bad length at byte " +
                           std::to_string(payload_at));
  }
  if (!in.done()) {
    return InvalidArgument("command: " + std::to_string(in.remaining()) +
                           " trailing bytes after the payload at byte " +
                           std::to_string(in.position()));
  }
  return command;
}

}  // namespace tri::rsm
