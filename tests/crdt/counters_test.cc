#include <gtest/gtest.h>

#include "crdt/encoding.h"
#include "crdt/g_counter.h"
#include "crdt/pn_counter.h"

namespace tri::crdt {
namespace {

TEST(GCounter, ValueIsTheSumOfEveryReplicasIncrements) {
  GCounter counter;
  ASSERT_TRUE(counter.Increment(1, 3).ok());
  ASSERT_TRUE(counter.Increment(2).ok());
  ASSERT_TRUE(counter.Increment(1, 2).ok());
  EXPECT_EQ(counter.Value(), 6u);
  EXPECT_EQ(counter.Get(1), 5u);
}

TEST(GCounter, DeltaHoldsOnlyTheIncrementingReplicasNewCount) {
  GCounter counter;
  ASSERT_TRUE(counter.Increment(1, 3).ok());
  auto delta = counter.Increment(2, 4);
  ASSERT_TRUE(delta.ok());
  ASSERT_EQ(delta->entries().size(), 1u);
  EXPECT_EQ(delta->entries()[0], (Dot{2, 4}));
  GCounter other;
  ASSERT_TRUE(other.Merge(*delta).ok());
  ASSERT_TRUE(other.Merge(*delta).ok());  // a duplicate delta changes nothing
  EXPECT_EQ(other.Value(), 4u);
}

TEST(GCounter, MergeTakesThePerReplicaMaximumNotTheSum) {
  GCounter a, b;
  ASSERT_TRUE(a.Increment(1, 5).ok());
  ASSERT_TRUE(b.Merge(a).ok());
  ASSERT_TRUE(b.Increment(2, 1).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.Value(), 6u);
}

TEST(GCounter, RefusesOverflowAndTooManyReplicas) {
  GCounter counter;
  ASSERT_TRUE(counter.Increment(1, UINT64_MAX).ok());
  auto overflow = counter.Increment(1, 1);
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(counter.Get(1), UINT64_MAX);

  GCounter bounded(Limits{.max_replicas = 1});
  ASSERT_TRUE(bounded.Increment(1).ok());
  auto full = bounded.Increment(2);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().message(),
            "g-counter: replica 2 would be replica 2, past max_replicas 1");
  EXPECT_TRUE(bounded.Increment(1, 0).ok());
  GCounter other;
  ASSERT_TRUE(other.Increment(3).ok());
  const Status refused = bounded.Merge(other);
  EXPECT_EQ(refused.message(), "g-counter: merge would count 2 replicas, past max_replicas 1");
  EXPECT_EQ(bounded.Value(), 1u);  // a refused merge changes nothing
}

TEST(GCounter, ValueSaturatesWhenConcurrentIncrementsPassTwoToTheSixtyFour) {
  GCounter a, b;
  ASSERT_TRUE(a.Increment(1, UINT64_MAX - 1).ok());
  ASSERT_TRUE(b.Increment(2, 5).ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.Value(), UINT64_MAX);
}

TEST(GCounter, EncodingRoundTripsAndNamesTheBadField) {
  GCounter counter;
  ASSERT_TRUE(counter.Increment(1, 300).ok());
  ASSERT_TRUE(counter.Increment(9, 1).ok());
  const std::string bytes = counter.Encode();
  EXPECT_EQ(bytes.size(), 2u + 1u + 1u + 2u + 1u + 1u);
  auto decoded = GCounter::Decode(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, counter);
  auto truncated = GCounter::Decode(bytes.substr(0, bytes.size() - 1));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().message(),
            "crdt g-counter: counts[1].counter truncated or malformed at byte 7");
}

TEST(PNCounter, ValueIsIncrementsMinusDecrements) {
  PNCounter counter;
  ASSERT_TRUE(counter.Increment(1, 10).ok());
  ASSERT_TRUE(counter.Decrement(2, 15).ok());
  EXPECT_EQ(counter.Value(), -5);
  auto delta = counter.Decrement(1, 1);
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->increments().Value(), 0u);
  EXPECT_EQ(delta->decrements().Get(1), 1u);
  EXPECT_EQ(counter.Value(), -6);
}

TEST(PNCounter, ValueClampsToTheInt64Range) {
  PNCounter counter;
  ASSERT_TRUE(counter.Decrement(1, UINT64_MAX).ok());
  EXPECT_EQ(counter.Value(), INT64_MIN);
  ASSERT_TRUE(counter.Increment(2, UINT64_MAX).ok());
  EXPECT_EQ(counter.Value(), 0);
}

TEST(PNCounter, EncodingRoundTripsAndEnforcesMaxReplicasPerHalf) {
  PNCounter counter;
  ASSERT_TRUE(counter.Increment(1, 2).ok());
  ASSERT_TRUE(counter.Decrement(2, 3).ok());
  ASSERT_TRUE(counter.Decrement(3, 3).ok());
  auto decoded = PNCounter::Decode(counter.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, counter);
  Limits limits;
  limits.max_replicas = 1;
  auto refused = PNCounter::Decode(counter.Encode(), limits);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("decrements entry count 2 exceeds max_replicas 1"),
            std::string::npos)
      << refused.status().ToString();
  PNCounter bounded(limits);
  ASSERT_TRUE(bounded.Increment(1).ok());
  const Status merge = bounded.Merge(counter);
  EXPECT_EQ(merge.message(),
            "pn-counter decrements: g-counter: merge would count 2 replicas, past max_replicas 1");
  EXPECT_EQ(bounded.Value(), 1);  // neither half merged
}

}  // namespace
}  // namespace tri::crdt
