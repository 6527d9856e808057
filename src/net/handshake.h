#pragma once

// Payloads of the control frames (tables in docs/net.md): hello, ping/pong, reject.
//
// hello:  magic "TRIN" | protocol version varint | cluster_id u64 | from varint | to varint
// ping:   sent_ns u64 (the sender's monotonic clock; the pong echoes the payload verbatim)
// reject: reason text, at most kMaxRejectReasonBytes

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "raft/types.h"

namespace tri::net {

inline constexpr std::string_view kHelloMagic = "TRIN";
// Bump on any change to framing, control payloads or the raft message encoding.
inline constexpr std::uint64_t kProtocolVersion = 1;
inline constexpr std::size_t kMaxRejectReasonBytes = 1024;

struct Hello {
  std::uint64_t protocol_version = kProtocolVersion;
  std::uint64_t cluster_id = 0;
  raft::NodeId from = raft::kNoNode;
  raft::NodeId to = raft::kNoNode;

  friend bool operator==(const Hello&, const Hello&) = default;
};

std::string EncodeHello(const Hello& hello);
// Checks the magic and that nothing trails; the version is returned, not judged
// (the acceptor answers a version mismatch with a reject that names both).
Result<Hello> DecodeHello(std::string_view payload);

std::string EncodePing(std::uint64_t sent_ns);
Result<std::uint64_t> DecodePing(std::string_view payload);

// Truncates the reason to kMaxRejectReasonBytes.
std::string EncodeReject(std::string_view reason);
// Replaces bytes outside printable ASCII with '?' so the text is safe to log.
std::string DecodeReject(std::string_view payload);

}  // namespace tri::net
