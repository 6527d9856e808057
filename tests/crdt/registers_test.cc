#include <gtest/gtest.h>

#include "crdt/encoding.h"
#include "crdt/lww_register.h"
#include "crdt/mv_register.h"

namespace tri::crdt {
namespace {

LwwStamp Stamp(std::uint64_t ms, std::uint64_t logical, ReplicaId replica) {
  return LwwStamp{HlcTimestamp{ms, logical}, replica};
}

TEST(LwwRegister, TheLargestStampWinsInAnyMergeOrder) {
  LwwRegister a, b;
  ASSERT_TRUE(a.Set("old", Stamp(100, 0, 1)).ok());
  ASSERT_TRUE(b.Set("new", Stamp(100, 1, 2)).ok());
  LwwRegister ab = a, ba = b;
  ASSERT_TRUE(ab.Merge(b).ok());
  ASSERT_TRUE(ba.Merge(a).ok());
  EXPECT_EQ(ab.value(), "new");
  EXPECT_EQ(ab, ba);
}

TEST(LwwRegister, EqualTimestampsAreBrokenByReplicaId) {
  LwwRegister a, b;
  ASSERT_TRUE(a.Set("from 7", Stamp(100, 0, 7)).ok());
  ASSERT_TRUE(b.Set("from 3", Stamp(100, 0, 3)).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.value(), "from 7");
  ASSERT_TRUE(b.Merge(a).ok());
  EXPECT_EQ(b.value(), "from 7");
}

TEST(LwwRegister, ALateWriteLosesButIsStillADelta) {
  LwwRegister reg;
  ASSERT_TRUE(reg.Set("newer", Stamp(200, 0, 1)).ok());
  auto delta = reg.Set("older", Stamp(100, 0, 1));
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(reg.value(), "newer");
  EXPECT_EQ(delta->value(), "older");
}

TEST(LwwRegister, RefusesAValuePastMaxValueBytes) {
  LwwRegister reg(Limits{.max_value_bytes = 3});
  auto refused = reg.Set("four", Stamp(1, 0, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "lww register: value of 4 bytes, past max_value_bytes 3");
  EXPECT_FALSE(reg.has_value());
  LwwRegister unbounded;
  ASSERT_TRUE(unbounded.Set("four", Stamp(1, 0, 1)).ok());
  EXPECT_EQ(reg.Merge(unbounded).message(),
            "lww register: value of 4 bytes, past max_value_bytes 3");
  EXPECT_FALSE(reg.has_value());
}

TEST(LwwRegister, EncodingRoundTripsAndRefusesABadPresenceByte) {
  LwwRegister reg;
  auto empty = LwwRegister::Decode(reg.Encode());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, reg);
  ASSERT_TRUE(reg.Set("value", Stamp(1'700'000'000'000, 2, 9)).ok());
  auto decoded = LwwRegister::Decode(reg.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, reg);
  std::string bad;
  PutHeader(bad, TypeTag::kLwwRegister);
  bad.push_back('\x02');
  EXPECT_EQ(LwwRegister::Decode(bad).status().message(),
            "crdt lww register: presence byte 2 is not 0 or 1 at byte 3");
  Limits limits;
  limits.max_value_bytes = 4;
  EXPECT_NE(LwwRegister::Decode(reg.Encode(), limits)
                .status()
                .message()
                .find("value length 5 exceeds max_value_bytes 4"),
            std::string::npos);
}

TEST(MvRegister, ConcurrentWritesAreKeptAsSiblings) {
  MvRegister a, b;
  ASSERT_TRUE(a.Write(1, "x").ok());
  ASSERT_TRUE(b.Write(2, "y").ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.Values(), (std::vector<std::string>{"x", "y"}));
}

TEST(MvRegister, AWriteReplacesEverySiblingItsWriterHasSeen) {
  MvRegister a, b;
  ASSERT_TRUE(a.Write(1, "x").ok());
  ASSERT_TRUE(b.Write(2, "y").ok());
  ASSERT_TRUE(a.Merge(b).ok());
  auto delta = a.Write(1, "z");
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(a.Values(), (std::vector<std::string>{"z"}));
  ASSERT_TRUE(b.Merge(*delta).ok());
  EXPECT_EQ(b.Values(), (std::vector<std::string>{"z"}));
  EXPECT_EQ(a, b);
}

TEST(MvRegister, AValueArrivingAfterTheWriteThatReplacedItStaysReplaced) {
  MvRegister a, c;
  auto first = a.Write(1, "first");
  auto second = a.Write(1, "second");
  auto third = a.Write(1, "third");
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  ASSERT_TRUE(c.Merge(*third).ok());
  ASSERT_TRUE(c.Merge(*first).ok());  // late, and not replaced directly by `third`
  EXPECT_EQ(c.Values(), (std::vector<std::string>{"third"}));
}

TEST(MvRegister, EncodingRoundTripsAndRefusesAnEntryOutsideTheContext) {
  MvRegister a, b;
  ASSERT_TRUE(a.Write(1, "x").ok());
  ASSERT_TRUE(b.Write(2, "y").ok());
  ASSERT_TRUE(a.Merge(b).ok());
  auto decoded = MvRegister::Decode(a.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, a);

  std::string bad;
  PutHeader(bad, TypeTag::kMvRegister);
  DottedVersionVector().EncodeBody(bad);
  coding::PutVarint64(bad, 1);
  PutDot(bad, {1, 1});
  coding::PutLengthPrefixed(bad, "x");
  auto refused = MvRegister::Decode(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("entries[0].dot 1:1 not in the context"),
            std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace tri::crdt
