#include "net/frame.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "net/handshake.h"

namespace tri::net {
namespace {

std::vector<Frame> DecodeAll(FrameDecoder& decoder, Status* error = nullptr) {
  std::vector<Frame> frames;
  while (true) {
    auto next = decoder.Next();
    if (!next.ok()) {
      if (error) *error = next.status();
      return frames;
    }
    if (!next->has_value()) return frames;
    frames.push_back(std::move(**next));
  }
}

TEST(Frame, IsLengthCrcTypePayloadLittleEndian) {
  std::string out;
  AppendFrame(out, FrameType::kRaftMessages, "abc");
  ASSERT_EQ(out.size(), kFrameHeaderBytes + 3);
  EXPECT_EQ(coding::DecodeFixed32(out.data()), 3u);
  EXPECT_EQ(coding::DecodeFixed32(out.data() + 4), crc32c::Value(std::string("\x02") + "abc"));
  EXPECT_EQ(out[8], '\x02');
  EXPECT_EQ(out.substr(9), "abc");
}

TEST(Frame, HeaderOfGatheredPiecesMatchesAppendFrame) {
  std::string whole;
  AppendFrame(whole, FrameType::kPing, "hello world");
  std::uint32_t crc = FrameCrcStart(FrameType::kPing);
  crc = crc32c::Extend(crc, "hello ", 6);
  crc = crc32c::Extend(crc, "world", 5);
  EXPECT_EQ(EncodeFrameHeader(FrameType::kPing, 11, crc) + "hello world", whole);
}

RC_GTEST_PROP(FrameDecoder, YieldsEveryFrameUnderAnyChunking,
              (std::vector<std::string> payloads, std::vector<std::uint8_t> cuts)) {
  std::string stream;
  for (const std::string& p : payloads)
    AppendFrame(stream, FrameType::kRaftMessages, p);
  FrameDecoder decoder;
  std::vector<Frame> frames;
  std::size_t pos = 0;
  std::size_t cut = 0;
  while (pos < stream.size()) {
    const std::size_t n = std::min<std::size_t>(
        stream.size() - pos, cut < cuts.size() ? cuts[cut++] + 1u : stream.size());
    decoder.Feed(std::string_view(stream).substr(pos, n));
    pos += n;
    for (Frame& f : DecodeAll(decoder))
      frames.push_back(std::move(f));
  }
  RC_ASSERT(frames.size() == payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    RC_ASSERT(frames[i].type == FrameType::kRaftMessages);
    RC_ASSERT(frames[i].payload == payloads[i]);
  }
  RC_ASSERT(decoder.buffered_bytes() == 0u);
}

TEST(FrameDecoder, WaitsForTheRestOfATruncatedFrame) {
  std::string frame;
  AppendFrame(frame, FrameType::kPong, "12345678");
  FrameDecoder decoder;
  decoder.Feed(std::string_view(frame).substr(0, frame.size() - 1));
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered_bytes(), frame.size() - 1);
  decoder.Feed(std::string_view(frame).substr(frame.size() - 1));
  next = decoder.Next();
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->has_value());
  EXPECT_EQ((*next)->payload, "12345678");
}

TEST(FrameDecoder, RejectsABadChecksumNamingTheOffset) {
  std::string stream;
  AppendFrame(stream, FrameType::kPing, "first");
  AppendFrame(stream, FrameType::kPing, "second");
  stream.back() ^= 0x01;
  FrameDecoder decoder;
  decoder.Feed(stream);
  Status error;
  auto frames = DecodeAll(decoder, &error);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(error.code(), StatusCode::kCorruption);
  EXPECT_NE(error.message().find("bad checksum"), std::string::npos) << error.message();
  EXPECT_NE(error.message().find("stream offset 14"), std::string::npos) << error.message();
}

TEST(FrameDecoder, RejectsAnUnknownType) {
  std::string stream;
  AppendFrame(stream, FrameType::kPing, "x");
  stream[8] = 99;
  FrameDecoder decoder;
  decoder.Feed(stream);
  Status error;
  DecodeAll(decoder, &error);
  EXPECT_EQ(error.code(), StatusCode::kCorruption);
  EXPECT_NE(error.message().find("unknown type 99"), std::string::npos) << error.message();
}

TEST(FrameDecoder, RejectsAnOversizedFrameFromItsHeaderAlone) {
  std::string header = EncodeFrameHeader(FrameType::kRaftMessages, 4097, 0);
  FrameDecoder decoder(/*max_frame_bytes=*/4096);
  decoder.Feed(header);  // the payload never arrives: the header suffices
  Status error;
  DecodeAll(decoder, &error);
  EXPECT_EQ(error.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(error.message().find("4097 payload bytes, above max_frame_bytes 4096"),
            std::string::npos)
      << error.message();
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoder, ErrorIsStickyAndLaterInputIgnored) {
  FrameDecoder decoder;
  decoder.Feed(std::string(kFrameHeaderBytes, '\xff'));
  EXPECT_FALSE(decoder.Next().ok());
  std::string good;
  AppendFrame(good, FrameType::kPing, "ok");
  decoder.Feed(good);
  EXPECT_FALSE(decoder.Next().ok());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

RC_GTEST_PROP(FrameDecoder, GarbageNeverCrashesAndNeverYieldsPastInput,
              (std::vector<std::uint8_t> bytes)) {
  FrameDecoder decoder(/*max_frame_bytes=*/1024);
  decoder.Feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  std::size_t consumed = 0;
  while (true) {
    auto next = decoder.Next();
    if (!next.ok() || !next->has_value()) break;
    consumed += kFrameHeaderBytes + (*next)->payload.size();
  }
  RC_ASSERT(consumed <= bytes.size());
}

TEST(Handshake, HelloRoundTripsAndRejectsBadMagicAndTrailingBytes) {
  const Hello hello{kProtocolVersion, 0xfeedface12345678, 3, 7};
  auto decoded = DecodeHello(EncodeHello(hello));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, hello);

  std::string bad = EncodeHello(hello);
  bad[0] = 'X';
  EXPECT_NE(DecodeHello(bad).status().message().find("bad magic"), std::string::npos);
  EXPECT_NE(DecodeHello(EncodeHello(hello) + "z").status().message().find("trailing"),
            std::string::npos);
  EXPECT_NE(DecodeHello(EncodeHello(hello).substr(0, 8)).status().message().find("truncated"),
            std::string::npos);
}

TEST(Handshake, PingRoundTripsAndRejectIsSanitizedAndBounded) {
  EXPECT_EQ(*DecodePing(EncodePing(42)), 42u);
  EXPECT_FALSE(DecodePing("1234567").ok());
  EXPECT_EQ(DecodeReject(EncodeReject("bad\nid\x01")), "bad?id?");
  EXPECT_EQ(EncodeReject(std::string(5000, 'r')).size(), kMaxRejectReasonBytes);
}

}  // namespace
}  // namespace tri::net
