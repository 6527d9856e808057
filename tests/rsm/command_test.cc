// The command envelope: round trip and one test per way a decode fails.

#include "rsm/command.h"

#include <gtest/gtest.h>

#include <string>

namespace tri::rsm {
namespace {

Command Sample() {
  return Command{CommandKind::kKv, 0xfeedbeef12ull, 1700000000123ull, "payload"};
}

TEST(Command, EncodeThenDecodeGivesTheSameCommand) {
  auto decoded = DecodeCommand(EncodeCommand(Sample()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, Sample());
}

TEST(Command, EmptyPayloadRoundTrips) {
  Command c = Sample();
  c.payload.clear();
  EXPECT_EQ(*DecodeCommand(EncodeCommand(c)), c);
}

TEST(Command, AnUnknownKindDecodesSoTheStateMachineCanRefuseIt) {
  Command c = Sample();
  c.kind = static_cast<CommandKind>(9);
  auto decoded = DecodeCommand(EncodeCommand(c));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(static_cast<int>(decoded->kind), 9);
}

TEST(Command, AnotherFormatVersionFailsNamingTheVersion) {
  std::string bytes = EncodeCommand(Sample());
  bytes[0] = 2;
  auto decoded = DecodeCommand(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("format version 2"), std::string::npos);
}

TEST(Command, EveryTruncationFails) {
  const std::string bytes = EncodeCommand(Sample());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeCommand(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(Command, TrailingBytesFail) {
  auto decoded = DecodeCommand(EncodeCommand(Sample()) + "x");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("trailing"), std::string::npos);
}

TEST(Command, AnOverlongVarintFails) {
  std::string bytes(1, static_cast<char>(kCommandFormatVersion));
  bytes.push_back(1);
  bytes.append(11, static_cast<char>(0xff));
  auto decoded = DecodeCommand(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("request_id"), std::string::npos);
}

}  // namespace
}  // namespace tri::rsm
