#include "crdt/dotted_version_vector.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "crdt/encoding.h"

namespace tri::crdt {
namespace {

TEST(DottedVersionVector, KeepsADotPastAGapWithoutClaimingTheGap) {
  DottedVersionVector dvv;
  dvv.Add({1, 1});
  dvv.Add({1, 3});
  EXPECT_TRUE(dvv.Contains({1, 1}));
  EXPECT_FALSE(dvv.Contains({1, 2}));
  EXPECT_TRUE(dvv.Contains({1, 3}));
  EXPECT_EQ(dvv.ToString(), "{1:1} + [1:3]");
}

TEST(DottedVersionVector, FoldsTheCloudIntoThePrefixWhenTheGapCloses) {
  DottedVersionVector dvv;
  dvv.Add({1, 3});
  dvv.Add({1, 2});
  EXPECT_FALSE(dvv.prefix().Contains({1, 1}));
  dvv.Add({1, 1});
  EXPECT_EQ(dvv.prefix().Get(1), 3u);
  EXPECT_TRUE(dvv.cloud().empty());
}

TEST(DottedVersionVector, NextDotNamesTheDotAfterTheReplicasHighest) {
  DottedVersionVector dvv;
  EXPECT_EQ(dvv.NextDot(4), (Dot{4, 1}));
  dvv.Add({4, 1});
  dvv.Add({4, 3});
  EXPECT_EQ(dvv.NextDot(4), (Dot{4, 4}));
  EXPECT_FALSE(dvv.Contains({4, 4}));
}

TEST(DottedVersionVector, DecodeRefusesACloudDotThePrefixAlreadyHolds) {
  std::string bytes;
  PutHeader(bytes, TypeTag::kDottedVersionVector);
  VersionVector prefix;
  prefix.Add({1, 2});
  prefix.EncodeBody(bytes);
  coding::PutVarint64(bytes, 1);
  PutDot(bytes, {1, 3});  // adjacent to the prefix: not canonical
  auto decoded = DottedVersionVector::Decode(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("context.cloud[0] 1:3 is not past a gap"),
            std::string::npos)
      << decoded.status().ToString();
}

rc::Gen<std::set<Dot>> GenDots() {
  // A vector turned into a set: a set generator gives up when asked for more
  // distinct dots than the 21 small ones.
  return rc::gen::map(
      rc::gen::container<std::vector<Dot>>(rc::gen::construct<Dot>(
          rc::gen::inRange<ReplicaId>(0, 3), rc::gen::inRange<std::uint64_t>(1, 8))),
      [](const std::vector<Dot>& dots) { return std::set<Dot>(dots.begin(), dots.end()); });
}

DottedVersionVector FromDots(const std::set<Dot>& dots) {
  DottedVersionVector dvv;
  for (const Dot& d : dots)
    dvv.Add(d);
  return dvv;
}

// Checked against the naive model: a DVV is exactly the set of dots added.
RC_GTEST_PROP(DottedVersionVectorProperty, IsTheSetOfDotsAddedInAnyOrder, ()) {
  const auto dots = *GenDots();
  std::vector<Dot> order(dots.begin(), dots.end());
  const auto shuffled = *rc::gen::arbitrary<std::vector<int>>();
  for (std::size_t i = 0; i < order.size() && i < shuffled.size(); ++i) {
    std::swap(order[i], order[static_cast<std::size_t>(shuffled[i] & 0x7fff) % order.size()]);
  }
  DottedVersionVector dvv;
  for (const Dot& d : order)
    dvv.Add(d);
  RC_ASSERT(dvv == FromDots(dots));
  for (ReplicaId r = 0; r < 3; ++r) {
    for (std::uint64_t c = 1; c < 8; ++c) {
      RC_ASSERT(dvv.Contains({r, c}) == (dots.count({r, c}) == 1));
    }
  }
  auto decoded = DottedVersionVector::Decode(dvv.Encode());
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == dvv);
}

RC_GTEST_PROP(DottedVersionVectorProperty, MergeIsSetUnion, ()) {
  const auto a = *GenDots();
  const auto b = *GenDots();
  const auto c = *GenDots();
  std::set<Dot> ab = a;
  ab.insert(b.begin(), b.end());
  DottedVersionVector x = FromDots(a), y = FromDots(b), z = FromDots(c);
  DottedVersionVector xy = x;
  xy.Merge(y);
  RC_ASSERT(xy == FromDots(ab));
  DottedVersionVector yx = y;
  yx.Merge(x);
  RC_ASSERT(xy == yx);
  DottedVersionVector xx = x;
  xx.Merge(x);
  RC_ASSERT(xx == x);
  DottedVersionVector xy_z = xy, yz = y;
  xy_z.Merge(z);
  yz.Merge(z);
  DottedVersionVector x_yz = x;
  x_yz.Merge(yz);
  RC_ASSERT(xy_z == x_yz);
}

}  // namespace
}  // namespace tri::crdt
