#pragma once

// Framing of the peer protocol on a TCP byte stream (tables in docs/net.md).
//
// A frame:  length u32 | crc32c u32 | type u8 | payload (length bytes)
//   little endian; `length` counts the payload only; crc32c covers type and payload.
//
// FrameDecoder is fed arbitrary chunks of the stream and yields complete frames or
// an error that names what is wrong and at which stream offset. It never reads past
// its input, never asserts on input, and refuses a frame whose declared length is
// above max_frame_bytes as soon as the header arrives (before buffering it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace tri::net {

inline constexpr std::size_t kFrameHeaderBytes = 9;
inline constexpr std::uint64_t kDefaultMaxFrameBytes = 16u << 20;

enum class FrameType : std::uint8_t {
  kHello = 1,         // handshake: dialer -> acceptor, and the acceptor's acknowledgement
  kRaftMessages = 2,  // a batch of raft::Message (net/raft_codec.h)
  kPing = 3,          // RTT probe; payload echoed by the pong
  kPong = 4,
  kReject = 5,  // handshake refused; payload is the reason (UTF-8 text)
};

bool IsKnownFrameType(std::uint8_t type);
std::string_view FrameTypeName(FrameType type);

struct Frame {
  FrameType type = FrameType::kPing;
  std::string payload;
};

// The 9-byte header (length, crc, type) of a frame whose payload is written after it,
// possibly in pieces: `crc` is crc32c::Extend(FrameCrcStart(type), piece) over every
// piece in order, which lets a writer gather pre-encoded pieces without copying them.
std::string EncodeFrameHeader(FrameType type, std::uint32_t payload_bytes, std::uint32_t crc);
// The checksum of the type byte alone: the start of a frame's crc.
std::uint32_t FrameCrcStart(FrameType type);

// Appends one whole frame to `out`. REQUIRES: payload.size() fits in u32.
void AppendFrame(std::string& out, FrameType type, std::string_view payload);

class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint64_t max_frame_bytes = kDefaultMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  // Appends bytes of the stream. After an error, further input is ignored.
  void Feed(std::string_view bytes);

  // The next complete frame, std::nullopt when more input is needed, or an error
  // (kCorruption: bad checksum or unknown type; kResourceExhausted: oversized frame).
  // An error is sticky: every later call returns it again.
  Result<std::optional<Frame>> Next();

  // Bytes fed but not yet returned as frames.
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }
  // Stream offset of the next frame (bytes returned as frames so far).
  std::uint64_t stream_offset() const { return stream_offset_; }

 private:
  Status Fail(Status status);

  std::uint64_t max_frame_bytes_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // prefix of buffer_ already returned
  std::uint64_t stream_offset_ = 0;
  Status error_;
};

}  // namespace tri::net
