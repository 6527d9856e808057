#pragma once

// The byte format shared by every CRDT encoding (docs/crdt.md, "Encoding"): one
// type tag byte, one format version byte, then the type's body in varints and
// length-prefixed bytes (base/coding.h). Decoders never assert: every malformed
// input returns InvalidArgument naming the type, the field and the byte offset.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"
#include "base/status.h"
#include "crdt/replica.h"

namespace tri::crdt {

// One table for the whole layer, so a byte string says what it holds. Values are
// part of the format: never renumber, only append.
enum class TypeTag : std::uint8_t {
  kVersionVector = 1,
  kDottedVersionVector = 2,
  kHlcTimestamp = 3,
  kGCounter = 4,
  kPNCounter = 5,
  kLwwRegister = 6,
  kMvRegister = 7,
  kLwwMap = 8,
  kGSet = 9,
  kOrSet = 10,
  kOrSetDelta = 11,
};

// The format version every encoder writes and every decoder accepts.
inline constexpr std::uint8_t kEncodingVersion = 1;

// "crdt <type>: <what> at byte <offset>", InvalidArgument.
inline Status DecodeError(std::string_view type, const std::string& what,
                          const coding::Decoder& in) {
  return InvalidArgument("crdt " + std::string(type) + ": " + what + " at byte " +
                         std::to_string(in.position()));
}

inline void PutHeader(std::string& out, TypeTag tag) {
  coding::PutFixed8(out, static_cast<std::uint8_t>(tag));
  coding::PutFixed8(out, kEncodingVersion);
}

// Reads and checks the tag and version byte.
inline Status ReadHeader(coding::Decoder& in, TypeTag expected, std::string_view type) {
  std::uint8_t tag = 0;
  std::uint8_t version = 0;
  if (!in.ReadFixed8(tag)) return DecodeError(type, "type tag truncated", in);
  if (tag != static_cast<std::uint8_t>(expected)) {
    return DecodeError(type,
                       "type tag " + std::to_string(tag) + ", expected " +
                           std::to_string(static_cast<int>(expected)),
                       in);
  }
  if (!in.ReadFixed8(version)) return DecodeError(type, "version truncated", in);
  if (version != kEncodingVersion) {
    return DecodeError(type,
                       "format version " + std::to_string(version) + " unknown (this build reads " +
                           std::to_string(kEncodingVersion) + ")",
                       in);
  }
  return Status::Ok();
}

// Refuses bytes after a complete encoding.
inline Status CheckDone(const coding::Decoder& in, std::string_view type) {
  if (!in.done()) {
    return DecodeError(type, std::to_string(in.remaining()) + " trailing bytes", in);
  }
  return Status::Ok();
}

// A varint field.
inline Status ReadVarintField(coding::Decoder& in, std::string_view type, std::string_view field,
                              std::uint64_t& value) {
  if (!in.ReadVarint64(value)) {
    return DecodeError(type, std::string(field) + " truncated or malformed", in);
  }
  return Status::Ok();
}

// A count field that must not exceed `max` (the option named `limit_name`).
inline Status ReadCountField(coding::Decoder& in, std::string_view type, std::string_view field,
                             std::uint64_t max, std::string_view limit_name, std::uint64_t& count) {
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, field, count));
  if (count > max) {
    return DecodeError(type,
                       std::string(field) + " " + std::to_string(count) + " exceeds " +
                           std::string(limit_name) + " " + std::to_string(max),
                       in);
  }
  // Every counted item takes at least one byte: a count beyond the rest of the
  // input is malformed, and refusing it here bounds any reservation by the input.
  if (count > in.remaining()) {
    return DecodeError(type,
                       std::string(field) + " " + std::to_string(count) + " exceeds the " +
                           std::to_string(in.remaining()) + " bytes left",
                       in);
  }
  return Status::Ok();
}

// A length-prefixed byte string of at most `max_bytes`.
inline Status ReadBytesField(coding::Decoder& in, std::string_view type, std::string_view field,
                             std::uint64_t max_bytes, std::string& bytes) {
  std::uint64_t n = 0;
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, std::string(field) + " length", n));
  if (n > max_bytes) {
    return DecodeError(type,
                       std::string(field) + " length " + std::to_string(n) +
                           " exceeds max_value_bytes " + std::to_string(max_bytes),
                       in);
  }
  std::string_view view;
  if (!in.ReadBytes(n, view)) return DecodeError(type, std::string(field) + " truncated", in);
  bytes.assign(view);
  return Status::Ok();
}

inline void PutDot(std::string& out, const Dot& dot) {
  coding::PutVarint64(out, dot.replica);
  coding::PutVarint64(out, dot.counter);
}

// A dot; its counter must be at least 1.
inline Status ReadDotField(coding::Decoder& in, std::string_view type, std::string_view field,
                           Dot& dot) {
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, std::string(field) + ".replica", dot.replica));
  TRI_RETURN_IF_ERROR(ReadVarintField(in, type, std::string(field) + ".counter", dot.counter));
  if (dot.counter == 0) return DecodeError(type, std::string(field) + ".counter is 0", in);
  return Status::Ok();
}

}  // namespace tri::crdt
