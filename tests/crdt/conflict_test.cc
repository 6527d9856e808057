#include "crdt/conflict.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>

namespace tri::crdt {
namespace {

Version Write(std::initializer_list<Dot> clock, std::uint64_t ms, ReplicaId replica,
              std::string value) {
  Version v;
  for (const Dot& d : clock)
    v.clock.Add(d);
  v.stamp = LwwStamp{HlcTimestamp{ms, 0}, replica};
  v.value = std::move(value);
  return v;
}

ConflictPolicy Policy(ConflictStrategy strategy) {
  return ConflictPolicy{strategy, {}};
}

TEST(Conflict, AVersionThatDescendsTheStoredOneReplacesItUnderEveryStrategy) {
  const Version stored = Write({{1, 1}}, 10, 1, "a");
  const Version next = Write({{1, 1}, {2, 1}}, 5, 2, "b");  // older stamp, newer clock
  for (auto strategy : {ConflictStrategy::kLastWriterWins, ConflictStrategy::kReject,
                        ConflictStrategy::kApplicationCallback}) {
    auto result = Resolve("k", {stored}, next, Policy(strategy));
    ASSERT_TRUE(result.ok()) << ConflictStrategyName(strategy);
    EXPECT_EQ(*result, std::vector<Version>{next});
  }
}

TEST(Conflict, AStaleOrRepeatedVersionIsIgnored) {
  const Version stored = Write({{1, 2}}, 10, 1, "new");
  auto stale =
      Resolve("k", {stored}, Write({{1, 1}}, 20, 1, "old"), Policy(ConflictStrategy::kReject));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, std::vector<Version>{stored});
  auto repeated = Resolve("k", {stored}, stored, Policy(ConflictStrategy::kReject));
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(*repeated, std::vector<Version>{stored});
}

TEST(Conflict, LastWriterWinsKeepsTheLargerStampUnderAClockThatDescendsBoth) {
  const Version a = Write({{1, 1}}, 10, 1, "a");
  const Version b = Write({{2, 1}}, 10, 2, "b");  // same time: replica 2 wins the tie
  auto result = Resolve("k", {a}, b, Policy(ConflictStrategy::kLastWriterWins));
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].value, "b");
  EXPECT_TRUE((*result)[0].clock.Descends(a.clock));
  EXPECT_TRUE((*result)[0].clock.Descends(b.clock));
  auto reversed = Resolve("k", {b}, a, Policy(ConflictStrategy::kLastWriterWins));
  ASSERT_TRUE(reversed.ok());
  EXPECT_EQ(*reversed, *result);
}

TEST(Conflict, MergeFunctionCombinesConcurrentValues) {
  ConflictPolicy policy{
      ConflictStrategy::kMergeFunction,
      [](std::string_view x, std::string_view y) { return std::string(std::max(x, y)); }};
  auto result =
      Resolve("k", {Write({{1, 1}}, 30, 1, "apple")}, Write({{2, 1}}, 10, 2, "pear"), policy);
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->size(), 1u);
  EXPECT_EQ((*result)[0].value, "pear");
  EXPECT_EQ((*result)[0].stamp.timestamp.physical_ms, 30u);
}

TEST(Conflict, MergeFunctionStrategyWithoutAFunctionIsRefused) {
  auto result =
      Resolve("k", {}, Write({{1, 1}}, 1, 1, "v"), Policy(ConflictStrategy::kMergeFunction));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

TEST(Conflict, ApplicationCallbackKeepsSiblingsUntilTheApplicationResolves) {
  const Version a = Write({{1, 1}}, 10, 1, "a");
  const Version b = Write({{2, 1}}, 20, 2, "b");
  const Version c = Write({{3, 1}}, 15, 3, "c");
  const ConflictPolicy policy = Policy(ConflictStrategy::kApplicationCallback);
  auto two = Resolve("k", {a}, b, policy);
  ASSERT_TRUE(two.ok());
  auto three = Resolve("k", *two, c, policy);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[0].value, "a");  // stamp order
  EXPECT_EQ((*three)[1].value, "c");
  EXPECT_EQ((*three)[2].value, "b");

  const Version resolved = ResolveSiblings(*three, "abc", LwwStamp{HlcTimestamp{30, 0}, 1});
  for (const Version& sibling : *three)
    EXPECT_TRUE(resolved.clock.Descends(sibling.clock));
  auto after = Resolve("k", *three, resolved, policy);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::vector<Version>{resolved});
}

TEST(Conflict, ApplicationCallbackRefusesASiblingPastMaxSiblings) {
  ConflictPolicy policy = Policy(ConflictStrategy::kApplicationCallback);
  policy.max_siblings = 2;
  auto two = Resolve("k", {Write({{1, 1}}, 10, 1, "a")}, Write({{2, 1}}, 20, 2, "b"), policy);
  ASSERT_TRUE(two.ok());
  auto three = Resolve("k", *two, Write({{3, 1}}, 30, 3, "c"), policy);
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.status().message(),
            "conflict on key \"k\": 3 siblings, past max_siblings 2; the application must resolve "
            "the siblings first");
  // A version that descends them all still replaces them.
  auto resolved =
      Resolve("k", *two, ResolveSiblings(*two, "ab", LwwStamp{HlcTimestamp{40, 0}, 1}), policy);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->size(), 1u);
}

TEST(Conflict, RejectNamesTheKeyAndBothClocks) {
  auto result = Resolve("orders/7", {Write({{1, 2}}, 10, 1, "a")},
                        Write({{1, 1}, {2, 1}}, 11, 2, "b"), Policy(ConflictStrategy::kReject));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kAborted);
  EXPECT_EQ(result.status().message(),
            "conflict on key \"orders/7\": incoming clock {1:1, 2:1} is concurrent with stored "
            "clock {1:2} (strategy reject); read the key, resolve, and write a version whose "
            "clock descends both");
}

// The set union of the characters of two values: a semilattice join.
std::string CharUnion(std::string_view x, std::string_view y) {
  std::string joined(x);
  joined.append(y);
  std::sort(joined.begin(), joined.end());
  joined.erase(std::unique(joined.begin(), joined.end()), joined.end());
  return joined;
}

// Versions written by three replicas that learn some of each other's versions
// before writing, as a store's replicas do: a writer's clock is the join of the
// versions it knows plus its own event, its HLC has seen their stamps, and its
// value contains theirs (it climbs CharUnion). Under those contracts the same set
// of versions, arriving in any order, resolves to the same result: LWW and the
// merge function to one version, the callback to the same siblings (the maximal
// versions).
RC_GTEST_PROP(ConflictProperty, AnyArrivalOrderResolvesToTheSameVersions, ()) {
  const auto strategy =
      *rc::gen::element(ConflictStrategy::kLastWriterWins, ConflictStrategy::kMergeFunction,
                        ConflictStrategy::kApplicationCallback);
  const ConflictPolicy policy{strategy, CharUnion};
  const auto writes = *rc::gen::container<std::vector<std::tuple<int, int, int>>>(
      rc::gen::tuple(rc::gen::inRange(0, 3), rc::gen::inRange(0, 4), rc::gen::inRange(0, 3)));
  std::vector<HybridLogicalClock> hlcs(3);
  std::vector<std::set<std::size_t>> known(3);  // per replica, the versions it has seen
  std::vector<std::uint64_t> physical(3, 100);
  std::vector<Version> versions;
  for (auto [replica, advance_ms, learn_from] : writes) {
    physical[replica] += static_cast<std::uint64_t>(advance_ms);
    known[replica].insert(known[learn_from].begin(), known[learn_from].end());
    Version v;
    for (std::size_t seen : known[replica]) {
      v.clock.Merge(versions[seen].clock);
      RC_ASSERT(hlcs[replica].Update(versions[seen].stamp.timestamp, physical[replica]).ok());
      v.value = CharUnion(v.value, versions[seen].value);
    }
    v.clock.Increment(static_cast<ReplicaId>(replica));
    v.stamp = LwwStamp{hlcs[replica].Now(physical[replica]), static_cast<ReplicaId>(replica)};
    v.value = CharUnion(v.value, std::string(1, static_cast<char>('a' + versions.size() % 26)));
    known[replica].insert(versions.size());
    versions.push_back(std::move(v));
  }
  auto apply_all = [&](const std::vector<Version>& order) {
    std::vector<Version> state;
    for (const Version& v : order) {
      auto next = Resolve("k", state, v, policy);
      RC_ASSERT(next.ok());
      state = *next;
    }
    return state;
  };
  const auto forward = apply_all(versions);
  std::vector<Version> shuffled = versions;
  const auto swaps = *rc::gen::container<std::vector<std::size_t>>(
      shuffled.size(), rc::gen::arbitrary<std::size_t>());
  for (std::size_t i = 0; i < shuffled.size(); ++i) {
    std::swap(shuffled[i], shuffled[swaps[i] % shuffled.size()]);
  }
  RC_ASSERT(apply_all(shuffled) == forward);
  if (strategy != ConflictStrategy::kApplicationCallback) RC_ASSERT(forward.size() <= 1u);
}

}  // namespace
}  // namespace tri::crdt
