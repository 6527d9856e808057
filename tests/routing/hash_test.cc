#include "routing/hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace tri::routing {
namespace {

// Placement must agree across processes and builds: these values are the
// function's definition (docs/routing.md). A change here moves every key.
TEST(RoutingHash, IsTheDocumentedFixedFunction) {
  EXPECT_EQ(Mix64(0), 0u);
  EXPECT_EQ(HashBytes(""), Mix64(0));
  const std::uint64_t empty = HashBytes("", 7);
  EXPECT_EQ(empty, Mix64(7));
  // "abc": one zero-padded word 0x636261, seed 0, size 3.
  std::uint64_t h = 3 * kGoldenGamma;
  h = Mix64(h ^ 0x636261ULL) + kGoldenGamma;
  EXPECT_EQ(HashBytes("abc"), Mix64(h));
  // Nine bytes: one full word, then a one-byte tail.
  std::uint64_t g = 9 * kGoldenGamma;
  g = Mix64(g ^ 0x3837363534333231ULL) + kGoldenGamma;
  g = Mix64(g ^ 0x39ULL) + kGoldenGamma;
  EXPECT_EQ(HashBytes("123456789"), Mix64(g));
}

TEST(RoutingHash, PinnedValuesDoNotDrift) {
  EXPECT_EQ(HashBytes("node-1"), 0x88303bc055d51481ULL);
  EXPECT_EQ(HashBytes("saga/0001"), 0x36f20893dbcf8c2dULL);
  EXPECT_EQ(HashCombine(1, 2), 0x70e120d927458bc3ULL);
}

TEST(RoutingHash, LengthAndTrailingZerosAreDistinguished) {
  EXPECT_NE(HashBytes("a"), HashBytes(std::string("a\0", 2)));
  EXPECT_NE(HashBytes(std::string(8, '\0')), HashBytes(std::string(16, '\0')));
  EXPECT_NE(HashBytes("key", 1), HashBytes("key", 2));
}

TEST(RoutingHash, ManyShortKeysDoNotCollide) {
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 100'000; ++i)
    seen.insert(HashBytes("key-" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 100'000u);
}

TEST(RoutingHash, TopBitsAreEvenlySpread) {
  // 16 buckets by the top 4 bits over 64k sequential keys: each within 5% of even.
  int buckets[16] = {};
  for (int i = 0; i < 65'536; ++i)
    ++buckets[HashBytes("k" + std::to_string(i)) >> 60];
  for (int b : buckets) {
    EXPECT_GT(b, 4096 * 0.95);
    EXPECT_LT(b, 4096 * 1.05);
  }
}

}  // namespace
}  // namespace tri::routing
