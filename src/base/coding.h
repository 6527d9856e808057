#pragma once

// The project's one byte encoder and decoder (the role of LevelDB's util/coding.h):
// little-endian fixed-width integers, LEB128 varints and length-prefixed byte
// strings. Every on-disk and on-wire format (WAL records, snapshots, Raft messages,
// replicated commands, serialized core state) is written with these and read back
// through a Decoder, which never reads past its input and never asserts: input may
// come from a disk or a peer.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tri::coding {

// Largest encoding of a 64-bit varint.
inline constexpr std::size_t kMaxVarint64Bytes = 10;

inline void PutFixed8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

inline void PutFixed32(std::string& out, std::uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}

inline void PutFixed64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

// Overwrites 4 bytes at `dst` (for headers filled in after their payload).
inline void EncodeFixed32(char* dst, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

inline void EncodeFixed64(char* dst, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

// REQUIRES: p points at 4 (resp. 8) readable bytes.
inline std::uint32_t DecodeFixed32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

inline std::uint64_t DecodeFixed64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

inline void PutVarint64(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline std::size_t VarintLength(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Varint length, then the bytes.
inline void PutLengthPrefixed(std::string& out, std::string_view bytes) {
  PutVarint64(out, bytes.size());
  out.append(bytes);
}

// Reads from a byte string front to back. Every Read* returns false, and leaves the
// decoder failed (ok() == false, every later read false), when the input is too short
// or malformed; callers check once at the end or after each field, as they prefer.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  bool ReadFixed8(std::uint8_t& v) {
    if (!Need(1)) return false;
    v = static_cast<std::uint8_t>(in_[pos_]);
    pos_ += 1;
    return true;
  }

  bool ReadFixed32(std::uint32_t& v) {
    if (!Need(4)) return false;
    v = DecodeFixed32(in_.data() + pos_);
    pos_ += 4;
    return true;
  }

  bool ReadFixed64(std::uint64_t& v) {
    if (!Need(8)) return false;
    v = DecodeFixed64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }

  // Rejects encodings longer than 10 bytes and a 10th byte above 1 (overflow).
  bool ReadVarint64(std::uint64_t& v) {
    std::uint64_t result = 0;
    for (std::size_t i = 0; i < kMaxVarint64Bytes; ++i) {
      if (!Need(1)) return false;
      const auto byte = static_cast<std::uint8_t>(in_[pos_++]);
      if (i == kMaxVarint64Bytes - 1 && byte > 1) return Fail();
      result |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
      if ((byte & 0x80) == 0) {
        v = result;
        return true;
      }
    }
    return Fail();
  }

  // A varint that must fit in 32 bits.
  bool ReadVarint32(std::uint32_t& v) {
    std::uint64_t wide = 0;
    if (!ReadVarint64(wide)) return false;
    if (wide > 0xffffffffu) return Fail();
    v = static_cast<std::uint32_t>(wide);
    return true;
  }

  // A length-prefixed byte string of at most `max_bytes`; the view points into the input.
  bool ReadLengthPrefixed(std::string_view& bytes, std::uint64_t max_bytes = UINT64_MAX) {
    std::uint64_t n = 0;
    if (!ReadVarint64(n)) return false;
    if (n > max_bytes) return Fail();
    return ReadBytes(n, bytes);
  }

  bool ReadLengthPrefixed(std::string& bytes, std::uint64_t max_bytes = UINT64_MAX) {
    std::string_view view;
    if (!ReadLengthPrefixed(view, max_bytes)) return false;
    bytes.assign(view);
    return true;
  }

  // Exactly `n` bytes.
  bool ReadBytes(std::uint64_t n, std::string_view& bytes) {
    if (!Need(n)) return false;
    bytes = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }
  std::size_t position() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  bool Need(std::uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) return Fail();
    return true;
  }
  bool Fail() {
    ok_ = false;
    return false;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tri::coding
