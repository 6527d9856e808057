#include "net/handshake.h"

#include <fmt/format.h>

#include "base/coding.h"

namespace tri::net {

std::string EncodeHello(const Hello& hello) {
  std::string out(kHelloMagic);
  coding::PutVarint64(out, hello.protocol_version);
  coding::PutFixed64(out, hello.cluster_id);
  coding::PutVarint64(out, hello.from);
  coding::PutVarint64(out, hello.to);
  return out;
}

Result<Hello> DecodeHello(std::string_view payload) {
  coding::Decoder in(payload);
  std::string_view magic;
  if (!in.ReadBytes(kHelloMagic.size(), magic) || magic != kHelloMagic) {
    return Corruption("hello: bad magic (not a Trinity peer)");
  }
  Hello hello;
  if (!in.ReadVarint64(hello.protocol_version)) {
    return Corruption("hello: truncated protocol version");
  }
  if (!in.ReadFixed64(hello.cluster_id)) return Corruption("hello: truncated cluster id");
  if (!in.ReadVarint64(hello.from)) return Corruption("hello: truncated from id");
  if (!in.ReadVarint64(hello.to)) return Corruption("hello: truncated to id");
  if (!in.done()) {
    return Corruption(fmt::format("hello: {} unexpected trailing bytes", in.remaining()));
  }
  return hello;
}

std::string EncodePing(std::uint64_t sent_ns) {
  std::string out;
  coding::PutFixed64(out, sent_ns);
  return out;
}

Result<std::uint64_t> DecodePing(std::string_view payload) {
  coding::Decoder in(payload);
  std::uint64_t sent_ns = 0;
  if (!in.ReadFixed64(sent_ns) || !in.done()) {
    return Corruption(fmt::format("ping/pong: payload is {} bytes, want 8", payload.size()));
  }
  return sent_ns;
}

std::string EncodeReject(std::string_view reason) {
  return std::string(reason.substr(0, kMaxRejectReasonBytes));
}

std::string DecodeReject(std::string_view payload) {
  std::string text(payload.substr(0, kMaxRejectReasonBytes));
  for (char& c : text) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return text;
}

}  // namespace tri::net
