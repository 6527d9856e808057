#include "net/frame.h"

#include <fmt/format.h>

#include "base/assert.h"
#include "base/coding.h"
#include "base/crc32c.h"

namespace tri::net {

bool IsKnownFrameType(std::uint8_t type) {
  return type >= static_cast<std::uint8_t>(FrameType::kHello) &&
         type <= static_cast<std::uint8_t>(FrameType::kReject);
}

std::string_view FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kHello:
      return "hello";
    case FrameType::kRaftMessages:
      return "raft-messages";
    case FrameType::kPing:
      return "ping";
    case FrameType::kPong:
      return "pong";
    case FrameType::kReject:
      return "reject";
  }
  return "unknown";
}

std::uint32_t FrameCrcStart(FrameType type) {
  const char byte = static_cast<char>(type);
  return crc32c::Value(&byte, 1);
}

std::string EncodeFrameHeader(FrameType type, std::uint32_t payload_bytes, std::uint32_t crc) {
  std::string header;
  header.reserve(kFrameHeaderBytes);
  coding::PutFixed32(header, payload_bytes);
  coding::PutFixed32(header, crc);
  coding::PutFixed8(header, static_cast<std::uint8_t>(type));
  return header;
}

void AppendFrame(std::string& out, FrameType type, std::string_view payload) {
  TRI_ASSERT(payload.size() <= UINT32_MAX);
  const std::uint32_t crc = crc32c::Extend(FrameCrcStart(type), payload.data(), payload.size());
  out += EncodeFrameHeader(type, static_cast<std::uint32_t>(payload.size()), crc);
  out.append(payload);
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (!error_.ok()) return;
  // Compact once the consumed prefix dominates, so the buffer stays near one frame.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

Status FrameDecoder::Fail(Status status) {
  error_ = std::move(status);
  buffer_.clear();
  consumed_ = 0;
  return error_;
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  const std::string_view rest = std::string_view(buffer_).substr(consumed_);
  if (rest.size() < kFrameHeaderBytes) return std::optional<Frame>();
  coding::Decoder header(rest);
  std::uint32_t length = 0, crc = 0;
  std::uint8_t type = 0;
  header.ReadFixed32(length);
  header.ReadFixed32(crc);
  header.ReadFixed8(type);
  TRI_ASSERT(header.ok());  // the size was checked above
  if (length > max_frame_bytes_) {
    return Fail(ResourceExhausted(
        fmt::format("frame at stream offset {} declares {} payload bytes, above max_frame_bytes {}",
                    stream_offset_, length, max_frame_bytes_)));
  }
  if (!IsKnownFrameType(type)) {
    return Fail(Corruption(
        fmt::format("frame at stream offset {} has unknown type {}", stream_offset_, type)));
  }
  if (rest.size() - kFrameHeaderBytes < length) return std::optional<Frame>();
  const std::string_view payload = rest.substr(kFrameHeaderBytes, length);
  const std::uint32_t actual =
      crc32c::Extend(FrameCrcStart(static_cast<FrameType>(type)), payload.data(), payload.size());
  if (actual != crc) {
    return Fail(Corruption(fmt::format(
        "frame at stream offset {} ({} frame, {} payload bytes) has a bad checksum: "
        "stored {:#010x}, computed {:#010x}",
        stream_offset_, FrameTypeName(static_cast<FrameType>(type)), length, crc, actual)));
  }
  Frame frame{static_cast<FrameType>(type), std::string(payload)};
  consumed_ += kFrameHeaderBytes + length;
  stream_offset_ += kFrameHeaderBytes + length;
  return std::optional<Frame>(std::move(frame));
}

}  // namespace tri::net
