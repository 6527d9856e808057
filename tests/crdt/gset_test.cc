// GSet: union semantics, bounds, the encoding, the merge laws and the convergence
// schedules against the model "a replica holds exactly the elements of the adds
// it has seen".
#include "crdt/gset.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crdt/convergence.h"
#include "crdt/encoding.h"

namespace tri::crdt {
namespace {

using testing::BatchResult;
using testing::Knowledge;

struct GSetSpec {
  using State = GSet;
  using Delta = GSet;
  using Op = std::uint32_t;     // the element added
  using Event = std::uint32_t;  // the element added
  static constexpr std::uint32_t kElements = 6;

  static std::string Name(std::uint32_t element) { return "e" + std::to_string(element); }

  static State NewReplica(std::uint32_t) { return GSet(); }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) {
    return static_cast<Op>(choice % kElements);
  }
  static Event Record(const Op& op, std::uint32_t, const std::vector<Event>&, const Knowledge&) {
    return op;
  }
  static Delta Mutate(State& state, std::uint32_t, const Op& op) {
    Result<GSet> delta = state.Add(Name(op));
    TRI_ASSERT(delta.ok());
    return *std::move(delta);
  }
  static void MergeDelta(State& state, const Delta& delta) { Merge(state, delta); }
  static void JoinDeltas(Delta& group, const Delta& delta) { Merge(group, delta); }
  static void Merge(State& state, const State& other) {
    const Status status = state.Merge(other);
    TRI_ASSERT(status.ok());
  }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    std::uint32_t expected = 0;  // bit e: element e
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (seen.Has(i)) expected |= 1u << events[i];
    }
    std::uint32_t held = 0;
    for (const std::string& e : state.elements()) {
      const bool ours = e.size() == 2 && e[0] == 'e' && e[1] >= '0' &&
                        static_cast<std::uint32_t>(e[1] - '0') < kElements;
      if (!ours) return "holds " + e + ", which no add made";
      held |= 1u << (e[1] - '0');
    }
    if (held == expected) return "";
    std::string want;
    for (std::uint32_t e = 0; e < kElements; ++e) {
      if ((expected >> e) & 1) want += Name(e) + " ";
    }
    return "should hold the elements of the adds seen: { " + want + "}";
  }
  static std::string DescribeOp(const Op& op) { return "add(" + Name(op) + ")"; }
  static std::string DescribeState(const State& state) { return state.ToString(); }
};

// "Max instead of union": a merge keeps whichever set is larger.
struct LargerSetWinsSpec : GSetSpec {
  static void Merge(State& state, const State& other) {
    if (other.size() > state.size()) state = other;
  }
};

TEST(GSet, AddReturnsTheOneElementDelta) {
  GSet set;
  const Result<GSet> delta = set.Add("x");
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->elements(), std::vector<std::string>{"x"});
  EXPECT_TRUE(set.Contains("x"));
  EXPECT_FALSE(set.Contains("y"));
}

TEST(GSet, MergeIsUnionAndKeepsOrder) {
  GSet a;
  GSet b;
  ASSERT_TRUE(a.Add("m").ok());
  ASSERT_TRUE(a.Add("a").ok());
  ASSERT_TRUE(b.Add("z").ok());
  ASSERT_TRUE(b.Add("a").ok());
  ASSERT_TRUE(a.Merge(b).ok());
  EXPECT_EQ(a.elements(), (std::vector<std::string>{"a", "m", "z"}));
}

TEST(GSet, BoundsAreEnforcedAndARefusalChangesNothing) {
  GSet set(Limits{.max_elements = 2, .max_value_bytes = 3});
  EXPECT_EQ(set.Add("long").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(set.Add("a").ok());
  ASSERT_TRUE(set.Add("b").ok());
  const Result<GSet> third = set.Add("c");
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("max_elements 2"), std::string::npos);
  EXPECT_TRUE(set.Add("a").ok());  // already present: no new element
  GSet other;
  ASSERT_TRUE(other.Add("z").ok());
  const GSet before = set;
  EXPECT_EQ(set.Merge(other).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(set, before);
}

TEST(GSet, EncodingRoundTripsAndRefusesMalformedInput) {
  GSet set;
  ASSERT_TRUE(set.Add("b").ok());
  ASSERT_TRUE(set.Add(std::string("\0a", 2)).ok());
  const std::string bytes = set.Encode();
  EXPECT_EQ(static_cast<std::uint8_t>(bytes[0]), static_cast<std::uint8_t>(TypeTag::kGSet));
  const Result<GSet> decoded = GSet::Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, set);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(GSet::Decode(bytes.substr(0, n)).ok()) << "prefix of " << n << " bytes";
  }
  EXPECT_NE(GSet::Decode(bytes + "x").status().message().find("trailing"), std::string::npos);

  std::string unsorted;
  PutHeader(unsorted, TypeTag::kGSet);
  coding::PutVarint64(unsorted, 2);
  coding::PutLengthPrefixed(unsorted, "b");
  coding::PutLengthPrefixed(unsorted, "a");
  const Result<GSet> refused = GSet::Decode(unsorted);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("elements[1] not after elements[0]"), std::string::npos)
      << refused.status().message();

  const Result<GSet> too_long = GSet::Decode(bytes, Limits{.max_value_bytes = 1});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.status().message().find("max_value_bytes"), std::string::npos);
}

RC_GTEST_PROP(GSetProperties, MergeIsCommutativeAssociativeIdempotent, ()) {
  const auto states = testing::StatesAfter<GSetSpec>(*testing::GenScript(3, 3));
  RC_ASSERT(testing::CheckMergeLaws<GSetSpec>(states[0], states[1], states[2]).empty());
}

RC_GTEST_PROP(GSetProperties, EncodingRoundTrips, ()) {
  for (const GSet& state : testing::StatesAfter<GSetSpec>(*testing::GenScript())) {
    const Result<GSet> decoded = GSet::Decode(state.Encode());
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == state);
  }
}

RC_GTEST_PROP(GSetProperties, ShrinkableSchedulesConvergeToTheUnionOfAdds, ()) {
  RC_ASSERT(testing::RunScript<GSetSpec>(*testing::GenScript(), {.check_every_step = true}).ok());
}

TEST(GSetProperties, MergeLawsHoldOnSeededStates) {
  const BatchResult result = testing::RunMergeLaws<GSetSpec>(1, 50'000);
  EXPECT_TRUE(result.ok()) << result.failure;
}

TEST(GSetProperties, LargerSetWinsMergeIsCaught) {
  const BatchResult result = testing::RunSchedules<LargerSetWinsSpec>(1, 100'000);
  ASSERT_FALSE(result.ok()) << "the broken merge survived " << result.schedules_run;
  testing::PrintCaught("g-set larger-set-wins merge", result);
}

constexpr std::uint64_t kSchedules = 1'000'000;
constexpr std::uint64_t kBatches = 4;

class GSetConvergence : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(GSetConvergence, RandomSchedulesConvergeToTheUnionOfAdds) {
  const BatchResult result =
      testing::RunConvergenceBatch<GSetSpec>("g-set", GetParam(), kBatches, kSchedules);
  EXPECT_TRUE(result.ok()) << result.failure;
}

INSTANTIATE_TEST_SUITE_P(Batches, GSetConvergence, ::testing::Range<std::uint64_t>(0, kBatches));

}  // namespace
}  // namespace tri::crdt
