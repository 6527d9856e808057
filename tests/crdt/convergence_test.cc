// The convergence harness itself (tests/crdt/convergence.h), on a tiny grow-only
// set of small integers kept as a bitmask: a correct one passes, and each kind of
// broken one (a merge that is not a join, a mutator that loses its own update, a
// merge that is not idempotent) is caught.
#include "crdt/convergence.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

namespace tri::crdt::testing {
namespace {

// A G-Set over {0..63}: state and delta are bitmasks, merge is bitwise or.
struct BitsetSpec {
  using State = std::uint64_t;
  using Delta = std::uint64_t;
  using Op = std::uint32_t;     // the element added
  using Event = std::uint32_t;  // the element added

  static State NewReplica(std::uint32_t) { return 0; }
  static Op MakeOp(std::uint64_t choice, std::uint32_t, const State&) {
    return static_cast<Op>(choice % 8);
  }
  static Event Record(const Op& op, std::uint32_t, const std::vector<Event>&, const Knowledge&) {
    return op;
  }
  static Delta Mutate(State& state, std::uint32_t, const Op& op) {
    const Delta delta = std::uint64_t{1} << op;
    state |= delta;
    return delta;
  }
  static void MergeDelta(State& state, const Delta& delta) { state |= delta; }
  static void JoinDeltas(Delta& group, const Delta& delta) { group |= delta; }
  static void Merge(State& state, const State& other) { state |= other; }
  static std::string Check(const State& state, const std::vector<Event>& events,
                           const Knowledge& seen) {
    State expected = 0;
    for (std::size_t id = 0; id < events.size(); ++id) {
      if (seen.Has(id)) expected |= std::uint64_t{1} << events[id];
    }
    if (state == expected) return "";
    return "holds " + DescribeState(state) + ", the adds seen make " + DescribeState(expected);
  }
  static std::string DescribeOp(const Op& op) { return "add(" + std::to_string(op) + ")"; }
  static std::string DescribeState(const State& state) {
    std::string out = "{";
    for (int i = 0; i < 64; ++i) {
      if ((state >> i) & 1) out += (out.size() > 1 ? "," : "") + std::to_string(i);
    }
    return out + "}";
  }
};

// Full-state merge is an intersection: replicas agree after anti-entropy, but on
// less than every add.
struct IntersectionMergeSpec : BitsetSpec {
  static void Merge(State& state, const State& other) { state &= other; }
};

// The mutator returns the delta without applying it locally: an add whose deltas
// are all lost is lost, though every replica agrees.
struct LostLocalUpdateSpec : BitsetSpec {
  static Delta Mutate(State&, std::uint32_t, const Op& op) { return std::uint64_t{1} << op; }
};

// A delta-group keeps only its last member: the others' adds are lost where the
// group is delivered instead of them.
struct LossyDeltaGroupSpec : BitsetSpec {
  static void JoinDeltas(Delta& group, const Delta& delta) { group = delta; }
};

// Merge is exclusive or: commutative and associative, never idempotent.
struct XorMergeSpec : BitsetSpec {
  static void Merge(State& state, const State& other) { state ^= other; }
};

TEST(ConvergenceHarness, CorrectGrowOnlySetConvergesOnEverySchedule) {
  const BatchResult result = RunSchedules<BitsetSpec>(1, 20'000);
  EXPECT_TRUE(result.ok()) << result.failure;
  EXPECT_EQ(result.schedules_run, 20'000u);
}

TEST(ConvergenceHarness, IntersectionMergeIsCaughtWithSeedAndTrace) {
  const BatchResult result = RunSchedules<IntersectionMergeSpec>(1, 20'000);
  ASSERT_FALSE(result.ok());
  PrintCaught("bitset intersection merge", result);
  EXPECT_NE(result.failure.find("schedule seed "), std::string::npos) << result.failure;
  EXPECT_NE(result.failure.find("trace (up to that step):\nscript replicas="), std::string::npos)
      << result.failure;
  EXPECT_NE(result.failure.find("with every step checked: replica r"), std::string::npos)
      << result.failure;
}

TEST(ConvergenceHarness, LostLocalUpdateIsCaughtThoughReplicasAgree) {
  const BatchResult result = RunSchedules<LostLocalUpdateSpec>(1, 20'000);
  ASSERT_FALSE(result.ok());
  PrintCaught("bitset lost local update", result);
  // With every step checked the replay finds the first replica that lacks its own add.
  EXPECT_NE(result.failure.find("the adds seen make"), std::string::npos) << result.failure;
}

TEST(ConvergenceHarness, DeltaGroupThatLosesAMemberIsCaught) {
  const BatchResult result = RunSchedules<LossyDeltaGroupSpec>(1, 20'000);
  ASSERT_FALSE(result.ok());
  PrintCaught("bitset lossy delta-group", result);
  EXPECT_NE(result.failure.find("into delta-group#"), std::string::npos) << result.failure;
}

TEST(ConvergenceHarness, NonIdempotentMergeBreaksTheMergeLaws) {
  EXPECT_TRUE(RunMergeLaws<BitsetSpec>(1, 5'000).ok());
  const BatchResult result = RunMergeLaws<XorMergeSpec>(1, 5'000);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.failure.find("not idempotent"), std::string::npos) << result.failure;
}

TEST(ConvergenceHarness, ASeedReplaysTheSameScriptAndOutcome) {
  Script first;
  Script second;
  const Outcome a = RunSeed<IntersectionMergeSpec>(77, {}, first);
  const Outcome b = RunSeed<IntersectionMergeSpec>(77, {}, second);
  EXPECT_EQ(ScriptToString(first), ScriptToString(second));
  EXPECT_EQ(a.failure, b.failure);
}

TEST(ConvergenceHarness, GeneratedScriptsRespectTheOptions) {
  SeededRng rng(5);
  Script script;
  const ScheduleOptions options{.min_replicas = 3, .max_replicas = 3, .min_ops = 4, .max_ops = 4};
  for (int i = 0; i < 1000; ++i) {
    GenerateScript(rng, options, script);
    EXPECT_EQ(script.replicas, 3u);
    int ops = 0;
    for (const Step& step : script.steps)
      ops += step.kind == StepKind::kOp ? 1 : 0;
    EXPECT_EQ(ops, 4);
  }
}

TEST(ConvergenceHarness, KnowledgeIsASetOfEventIds) {
  Knowledge a;
  Knowledge b;
  a.Add(3);
  b.Add(70);
  EXPECT_TRUE(a.Has(3));
  EXPECT_FALSE(a.Has(70));
  a.Merge(b);
  EXPECT_TRUE(a.Has(70));
  EXPECT_EQ(a.Count(), 2u);
  EXPECT_FALSE(b.Has(3));
}

RC_GTEST_PROP(ConvergenceHarness, ShrinkableScriptsConvergeForACorrectType, ()) {
  const Script script = *GenScript();
  const Outcome outcome = RunScript<BitsetSpec>(script, {.check_every_step = true});
  RC_ASSERT(outcome.ok());
}

}  // namespace
}  // namespace tri::crdt::testing
