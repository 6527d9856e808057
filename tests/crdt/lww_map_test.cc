#include "crdt/lww_map.h"

#include <gtest/gtest.h>

#include "crdt/encoding.h"

namespace tri::crdt {
namespace {

LwwStamp Stamp(std::uint64_t ms, ReplicaId replica) {
  return LwwStamp{HlcTimestamp{ms, 0}, replica};
}

TEST(LwwMap, EachKeyKeepsItsLastWrite) {
  LwwMap map;
  ASSERT_TRUE(map.Put("a", "1", Stamp(10, 1)).ok());
  ASSERT_TRUE(map.Put("b", "2", Stamp(11, 1)).ok());
  ASSERT_TRUE(map.Put("a", "3", Stamp(12, 2)).ok());
  EXPECT_EQ(map.Values(), (std::map<std::string, std::string>{{"a", "3"}, {"b", "2"}}));
  EXPECT_EQ(map.Get("a"), "3");
  EXPECT_EQ(map.Get("c"), std::nullopt);
}

TEST(LwwMap, ARemoveLeavesATombstoneThatBeatsAnOlderPutArrivingLate) {
  LwwMap a, b;
  auto put = a.Put("k", "v", Stamp(10, 1));
  ASSERT_TRUE(put.ok());
  auto removed = a.Remove("k", Stamp(20, 1));
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(a.Get("k"), std::nullopt);
  ASSERT_TRUE(b.Merge(*removed).ok());
  ASSERT_TRUE(b.Merge(*put).ok());  // late
  EXPECT_EQ(b.Get("k"), std::nullopt);
  EXPECT_EQ(a, b);
  EXPECT_TRUE(b.entries().at("k").removed);
}

TEST(LwwMap, APutNewerThanTheRemoveRevivesTheKey) {
  LwwMap map;
  ASSERT_TRUE(map.Remove("k", Stamp(10, 1)).ok());
  ASSERT_TRUE(map.Put("k", "back", Stamp(11, 2)).ok());
  EXPECT_EQ(map.Get("k"), "back");
}

TEST(LwwMap, BoundsCountTombstonesAndKeyBytes) {
  LwwMap map(Limits{.max_elements = 1, .max_value_bytes = 4});
  ASSERT_TRUE(map.Remove("a", Stamp(1, 1)).ok());
  auto full = map.Put("b", "v", Stamp(2, 1));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().message(),
            "lww map: a new key would make 2 keys (tombstones included), past max_elements 1");
  EXPECT_TRUE(map.Put("a", "v", Stamp(3, 1)).ok());
  EXPECT_EQ(map.Put("a", "toolong", Stamp(4, 1)).status().message(),
            "lww map: value of 7 bytes, past max_value_bytes 4");
  EXPECT_EQ(map.Put("longkey", "v", Stamp(4, 1)).status().message(),
            "lww map: key of 7 bytes, past max_value_bytes 4");
  LwwMap other;
  ASSERT_TRUE(other.Put("b", "v", Stamp(5, 2)).ok());
  EXPECT_EQ(map.Merge(other).message(),
            "lww map: merge would make 2 keys (tombstones included), past max_elements 1");
  EXPECT_EQ(map.entries().size(), 1u);
}

TEST(LwwMap, EncodingRoundTripsAndRefusesKeysOutOfOrder) {
  LwwMap map;
  ASSERT_TRUE(map.Put("a", "1", Stamp(10, 1)).ok());
  ASSERT_TRUE(map.Remove("b", Stamp(11, 2)).ok());
  auto decoded = LwwMap::Decode(map.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, map);

  std::string bad;
  PutHeader(bad, TypeTag::kLwwMap);
  coding::PutVarint64(bad, 2);
  for (const char* key : {"b", "a"}) {
    coding::PutLengthPrefixed(bad, key);
    Stamp(1, 1).EncodeBody(bad);
    coding::PutFixed8(bad, 1);
  }
  auto refused = LwwMap::Decode(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("entries[1].key out of order or repeated"),
            std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace tri::crdt
