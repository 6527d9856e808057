#include "crdt/version_vector.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/encoding.h"

namespace tri::crdt {
namespace {

VersionVector Make(std::initializer_list<Dot> dots) {
  VersionVector vv;
  for (const Dot& d : dots)
    vv.Add(d);
  return vv;
}

TEST(VersionVector, IncrementReturnsConsecutiveDotsPerReplica) {
  VersionVector vv;
  EXPECT_EQ(vv.Increment(7), (Dot{7, 1}));
  EXPECT_EQ(vv.Increment(7), (Dot{7, 2}));
  EXPECT_EQ(vv.Increment(3), (Dot{3, 1}));
  EXPECT_EQ(vv.Get(7), 2u);
  EXPECT_EQ(vv.Get(3), 1u);
  EXPECT_EQ(vv.Get(5), 0u);
  EXPECT_EQ(vv.ToString(), "{3:1, 7:2}");
}

TEST(VersionVector, ContainsEveryDotUpToTheCounter) {
  VersionVector vv = Make({{1, 3}});
  EXPECT_TRUE(vv.Contains({1, 1}));
  EXPECT_TRUE(vv.Contains({1, 3}));
  EXPECT_FALSE(vv.Contains({1, 4}));
  EXPECT_FALSE(vv.Contains({2, 1}));
}

TEST(VersionVector, CompareNamesAllFourRelations) {
  const VersionVector a = Make({{1, 2}, {2, 1}});
  EXPECT_EQ(a.Compare(a), CausalOrder::kEqual);
  EXPECT_EQ(a.Compare(Make({{1, 2}, {2, 2}})), CausalOrder::kBefore);
  EXPECT_EQ(a.Compare(Make({{1, 2}})), CausalOrder::kAfter);
  EXPECT_EQ(a.Compare(Make({{1, 3}})), CausalOrder::kConcurrent);
  EXPECT_EQ(a.Compare(Make({{3, 1}})), CausalOrder::kConcurrent);
  EXPECT_EQ(VersionVector().Compare(a), CausalOrder::kBefore);
  EXPECT_TRUE(a.Descends(Make({{2, 1}})));
  EXPECT_FALSE(a.Descends(Make({{2, 2}})));
}

TEST(VersionVector, MergeTakesTheEntryWiseMaximum) {
  VersionVector a = Make({{1, 2}, {3, 1}});
  a.Merge(Make({{1, 1}, {2, 5}, {3, 4}}));
  EXPECT_EQ(a, Make({{1, 2}, {2, 5}, {3, 4}}));
}

TEST(VersionVector, EncodingRoundTripsAndIsCompact) {
  const VersionVector vv = Make({{1, 3}, {2, 1}, {1000, 7}});
  const std::string bytes = vv.Encode();
  // tag, version, count, then (gap, counter) pairs: 1 3 | 1 1 | 998(2 bytes) 7.
  EXPECT_EQ(bytes.size(), 2u + 1u + 2u + 2u + 3u);
  auto decoded = VersionVector::Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, vv);
}

TEST(VersionVector, DecodeRefusesMalformedInputNamingTheField) {
  std::string bytes;
  PutHeader(bytes, TypeTag::kVersionVector);
  coding::PutVarint64(bytes, 2);
  coding::PutVarint64(bytes, 5);
  coding::PutVarint64(bytes, 1);
  coding::PutVarint64(bytes, 0);  // repeats replica 5
  coding::PutVarint64(bytes, 1);
  auto repeated = VersionVector::Decode(bytes);
  ASSERT_FALSE(repeated.ok());
  EXPECT_NE(repeated.status().message().find("entries[1].replica repeats replica 5"),
            std::string::npos)
      << repeated.status().ToString();

  std::string zero;
  PutHeader(zero, TypeTag::kVersionVector);
  coding::PutVarint64(zero, 1);
  coding::PutVarint64(zero, 5);
  coding::PutVarint64(zero, 0);
  auto zero_counter = VersionVector::Decode(zero);
  ASSERT_FALSE(zero_counter.ok());
  EXPECT_NE(zero_counter.status().message().find("entries[0].counter is 0"), std::string::npos);

  std::string wrong_tag;
  PutHeader(wrong_tag, TypeTag::kGCounter);
  EXPECT_NE(VersionVector::Decode(wrong_tag).status().message().find("type tag 4, expected 1"),
            std::string::npos);

  std::string trailing = Make({{1, 1}}).Encode() + "x";
  EXPECT_NE(VersionVector::Decode(trailing).status().message().find("1 trailing bytes"),
            std::string::npos);
  EXPECT_FALSE(VersionVector::Decode(Make({{1, 1}}).Encode().substr(0, 4)).ok());
}

TEST(VersionVector, DecodeEnforcesMaxReplicas) {
  const VersionVector vv = Make({{1, 1}, {2, 1}, {3, 1}});
  Limits limits;
  limits.max_replicas = 2;
  auto decoded = VersionVector::Decode(vv.Encode(), limits);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("exceeds max_replicas 2"), std::string::npos);
}

// Small histories over few replicas, so equal and ordered pairs are common.
rc::Gen<VersionVector> GenVersionVector() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::pair<std::uint8_t, std::uint8_t>>>(rc::gen::pair(
          rc::gen::inRange<std::uint8_t>(0, 4), rc::gen::inRange<std::uint8_t>(0, 4))),
      [](const std::vector<std::pair<std::uint8_t, std::uint8_t>>& dots) {
        VersionVector vv;
        for (auto [r, c] : dots)
          vv.Add(Dot{r, c});
        return vv;
      });
}

RC_GTEST_PROP(VersionVectorProperty, MergeIsCommutativeAssociativeIdempotent, ()) {
  const auto a = *GenVersionVector();
  const auto b = *GenVersionVector();
  const auto c = *GenVersionVector();
  VersionVector ab = a, ba = b, aa = a;
  ab.Merge(b);
  ba.Merge(a);
  aa.Merge(a);
  RC_ASSERT(ab == ba);
  RC_ASSERT(aa == a);
  VersionVector ab_c = ab, bc = b;
  ab_c.Merge(c);
  bc.Merge(c);
  VersionVector a_bc = a;
  a_bc.Merge(bc);
  RC_ASSERT(ab_c == a_bc);
}

RC_GTEST_PROP(VersionVectorProperty, CompareAgreesWithEntryWiseDefinition, ()) {
  const auto a = *GenVersionVector();
  const auto b = *GenVersionVector();
  bool le = true, ge = true;
  for (ReplicaId r = 0; r < 4; ++r) {
    le = le && a.Get(r) <= b.Get(r);
    ge = ge && a.Get(r) >= b.Get(r);
  }
  const CausalOrder expected = le && ge ? CausalOrder::kEqual
                               : le     ? CausalOrder::kBefore
                               : ge     ? CausalOrder::kAfter
                                        : CausalOrder::kConcurrent;
  RC_ASSERT(a.Compare(b) == expected);
  VersionVector joined = a;
  joined.Merge(b);
  RC_ASSERT(joined.Descends(a));
  RC_ASSERT(joined.Descends(b));
}

RC_GTEST_PROP(VersionVectorProperty, EncodeDecodeRoundTrips, ()) {
  const auto a = *GenVersionVector();
  auto decoded = VersionVector::Decode(a.Encode());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == a);
}

}  // namespace
}  // namespace tri::crdt
