#include "routing/steal_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace tri::routing {
namespace {

StealMessage SampleGrant() {
  StealMessage m;
  m.kind = StealKind::kGrant;
  m.from = "n17";
  m.to = "n3";
  m.steal_id = 1ull << 40;
  m.max_tasks = 0;
  m.queued = 300;
  m.tasks = {{1, 0, false}, {~0ull, 12345, false, 7}, {99, 7, true}};
  return m;
}

bool SameMessage(const StealMessage& a, const StealMessage& b) {
  return a.kind == b.kind && a.from == b.from && a.to == b.to && a.steal_id == b.steal_id &&
         a.max_tasks == b.max_tasks && a.queued == b.queued && a.tasks == b.tasks;
}

TEST(StealCodec, EveryKindRoundTrips) {
  StealMessage request;
  request.kind = StealKind::kRequest;
  request.from = "a";
  request.to = "b";
  request.steal_id = 5;
  request.max_tasks = 64;
  StealMessage refuse = request;
  refuse.kind = StealKind::kRefuse;
  refuse.max_tasks = 0;
  StealMessage share = refuse;
  share.kind = StealKind::kShare;
  share.tasks = {{42, 900, false, 1}};
  StealMessage decline = share;
  decline.kind = StealKind::kDecline;
  decline.tasks[0].offers = 3;
  for (const StealMessage& m : {request, refuse, share, decline, SampleGrant()}) {
    auto decoded = DecodeStealMessage(EncodeStealMessage(m));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_TRUE(SameMessage(*decoded, m));
  }
}

TEST(StealCodec, EveryTruncationIsRefused) {
  const std::string bytes = EncodeStealMessage(SampleGrant());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(DecodeStealMessage(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
}

TEST(StealCodec, TrailingBytesUnknownVersionKindAndFlagsAreRefusedWithTheField) {
  const std::string bytes = EncodeStealMessage(SampleGrant());
  auto trailing = DecodeStealMessage(bytes + "x");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);

  std::string version = bytes;
  version[0] = 2;
  EXPECT_NE(DecodeStealMessage(version).status().message().find("version 2"), std::string::npos);

  std::string kind = bytes;
  kind[1] = 9;
  EXPECT_NE(DecodeStealMessage(kind).status().message().find("kind 9"), std::string::npos);

  std::string flags = bytes;
  flags.back() = 0x11;  // the last task's flags: bit 4 is unknown
  auto bad_flags = DecodeStealMessage(flags);
  ASSERT_FALSE(bad_flags.ok());
  EXPECT_NE(bad_flags.status().message().find("unknown flags"), std::string::npos);
}

TEST(StealCodec, LimitsOnNamesAndTaskCountAreEnforced) {
  const std::string bytes = EncodeStealMessage(SampleGrant());
  StealCodecLimits limits;
  limits.max_tasks = 2;
  auto many = DecodeStealMessage(bytes, limits);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("over the limit 2"), std::string::npos);
  limits = {};
  limits.max_name_bytes = 2;
  EXPECT_FALSE(DecodeStealMessage(bytes, limits).ok());  // "n17"

  StealMessage unnamed = SampleGrant();
  unnamed.from.clear();
  EXPECT_FALSE(DecodeStealMessage(EncodeStealMessage(unnamed)).ok());
}

}  // namespace
}  // namespace tri::routing
