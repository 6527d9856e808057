// Arbitrary bytes as a peer's TCP stream: through FrameDecoder in an input-chosen
// chunking, then every frame payload through its decoder (raft message batch,
// hello, ping). Nothing may crash, hang or assert. Checked properties:
//   - the chunked decoding yields exactly the frames (or the error) of decoding the
//     whole stream at once, and never more bytes than were fed;
//   - an accepted raft message batch re-encodes to the same bytes (the encoding is
//     canonical); an accepted hello or ping is a decode-encode-decode fixed point.
//
// Input: byte 0 sets the chunk sizes (a cycle through 1..byte0+1); the rest is the
// stream.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/raft_codec.h"

namespace {

using tri::net::Frame;
using tri::net::FrameDecoder;
using tri::net::FrameType;

constexpr std::uint64_t kMaxFrameBytes = 1 << 20;

struct Decoded {
  std::vector<Frame> frames;
  std::string error;
};

// Drains every available frame; stops at the first error.
void Drain(FrameDecoder& decoder, Decoded& out) {
  while (out.error.empty()) {
    auto next = decoder.Next();
    if (!next.ok()) {
      out.error = next.status().ToString();
      return;
    }
    if (!next->has_value()) return;
    out.frames.push_back(std::move(**next));
  }
}

void CheckPayload(const Frame& frame) {
  switch (frame.type) {
    case FrameType::kRaftMessages: {
      auto messages = tri::net::DecodeMessages(frame.payload);
      if (messages.ok()) {
        TRI_ASSERT_MSG(tri::net::EncodeMessages(*messages) == frame.payload,
                       "an accepted raft message batch did not re-encode to the same bytes");
      } else {
        TRI_ASSERT(!messages.status().message().empty());
      }
      break;
    }
    case FrameType::kHello: {
      auto hello = tri::net::DecodeHello(frame.payload);
      if (hello.ok()) {
        auto again = tri::net::DecodeHello(tri::net::EncodeHello(*hello));
        TRI_ASSERT(again.ok() && *again == *hello);
      }
      break;
    }
    case FrameType::kPing:
    case FrameType::kPong: {
      auto sent = tri::net::DecodePing(frame.payload);
      if (sent.ok()) TRI_ASSERT(*tri::net::DecodePing(tri::net::EncodePing(*sent)) == *sent);
      break;
    }
    case FrameType::kReject:
      (void)tri::net::DecodeReject(frame.payload);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t cycle = static_cast<std::size_t>(data[0]) + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  Decoded whole;
  FrameDecoder whole_decoder(kMaxFrameBytes);
  whole_decoder.Feed(stream);
  Drain(whole_decoder, whole);

  Decoded chunked;
  FrameDecoder chunked_decoder(kMaxFrameBytes);
  std::size_t pos = 0;
  for (std::size_t i = 0; pos < stream.size(); ++i) {
    const std::size_t n = std::min(stream.size() - pos, 1 + i % cycle);
    chunked_decoder.Feed(stream.substr(pos, n));
    pos += n;
    Drain(chunked_decoder, chunked);
  }

  TRI_ASSERT(chunked.frames.size() == whole.frames.size());
  TRI_ASSERT(chunked.error == whole.error);
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < whole.frames.size(); ++i) {
    TRI_ASSERT(chunked.frames[i].type == whole.frames[i].type);
    TRI_ASSERT(chunked.frames[i].payload == whole.frames[i].payload);
    consumed += tri::net::kFrameHeaderBytes + whole.frames[i].payload.size();
    CheckPayload(whole.frames[i]);
  }
  TRI_ASSERT(consumed <= stream.size());
  return 0;
}
