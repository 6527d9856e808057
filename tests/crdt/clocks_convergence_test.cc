// Convergence of the crdt-clocks types on the shared harness
// (tests/crdt/convergence.h): seeded batches of random schedules (deltas lost,
// duplicated and reordered, then anti-entropy), every replica checked against the
// type's model; the merge laws; RapidCheck's shrinkable version of the same
// property; and one deliberately broken merge per type, which must be caught.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "crdt/clocks_specs.h"

namespace tri::crdt::testing {
namespace {

// Each type's 10^6 schedules (CRDT_SCHEDULES overrides, CRDT_SEED shifts the
// seeds: scripts/crdt-soak.sh) run as kBatches gtest cases, which ctest runs side
// by side; each prints its count and time per schedule ("[crdt] ...").
constexpr std::uint64_t kSchedules = 1'000'000;
constexpr std::uint64_t kBatches = 4;

#define CLOCKS_CONVERGENCE(Name, Spec, label)                                                      \
  class Name##Convergence : public ::testing::TestWithParam<std::uint64_t> {};                     \
  TEST_P(Name##Convergence, RandomSchedulesConvergeToTheModel) {                                   \
    const BatchResult result = RunConvergenceBatch<Spec>(label, GetParam(), kBatches, kSchedules); \
    EXPECT_TRUE(result.ok()) << result.failure;                                                    \
  }                                                                                                \
  INSTANTIATE_TEST_SUITE_P(Batches, Name##Convergence,                                             \
                           ::testing::Range<std::uint64_t>(0, kBatches));                          \
  TEST(Name##Properties, MergeIsCommutativeAssociativeIdempotent) {                                \
    const BatchResult laws = RunMergeLaws<Spec>(1, 20'000);                                        \
    EXPECT_TRUE(laws.ok()) << laws.failure;                                                        \
  }                                                                                                \
  RC_GTEST_PROP(Name##Properties, ShrinkableSchedulesConverge, ()) {                               \
    const Script script = *GenScript();                                                            \
    const Outcome outcome = RunScript<Spec>(script, {.check_every_step = true});                   \
    RC_LOG() << outcome.failure << "\nscript " << ScriptToString(script) << "\n";                  \
    RC_ASSERT(outcome.ok());                                                                       \
  }

CLOCKS_CONVERGENCE(GCounter, GCounterSpec, "g-counter")
CLOCKS_CONVERGENCE(PNCounter, PNCounterSpec, "pn-counter")
CLOCKS_CONVERGENCE(LwwRegister, LwwRegisterSpec, "lww-register")
CLOCKS_CONVERGENCE(MvRegister, MvRegisterSpec, "mv-register")
CLOCKS_CONVERGENCE(LwwMap, LwwMapSpec, "lww-map")

// The checkers can fail: a broken merge per type is caught, with a seed to replay.
// Expects the broken type caught with a seed: the replicas diverge, or the
// model complains (`model_phrase`), as the replay's per-step check reports even
// when the replicas also diverge.
template <class Spec>
void ExpectCaught(const std::string& model_phrase) {
  const BatchResult result = RunSchedules<Spec>(1, 20'000);
  ASSERT_FALSE(result.ok()) << "the broken type passed 20000 schedules";
  EXPECT_NE(result.failure.find("schedule seed "), std::string::npos) << result.failure;
  const bool diverged = result.failure.find("replicas diverged") != std::string::npos;
  const bool wrong = result.failure.find(model_phrase) != std::string::npos;
  EXPECT_TRUE(diverged || wrong) << result.failure;
}

TEST(ClocksBrokenTypes, SumMergeGCounterCountsADuplicateTwice) {
  ExpectCaught<SumMergeGCounterSpec>("the increments seen make");
  EXPECT_FALSE(RunMergeLaws<SumMergeGCounterSpec>(1, 1'000).ok());
}

TEST(ClocksBrokenTypes, FirstWriterWinsRegisterLetsAWriteLoseToOneItSaw) {
  ExpectCaught<FirstWriterWinsRegisterSpec>("the last write seen is");
}

TEST(ClocksBrokenTypes, ContextBlindMvRegisterResurrectsAnOverwrittenValue) {
  ExpectCaught<ContextBlindMvRegisterSpec>("not overwritten are");
}

TEST(ClocksBrokenTypes, PutBeatsRemoveMapBringsBackARemovedKey) {
  ExpectCaught<PutBeatsRemoveMapSpec>("the last writes seen per key are");
}

}  // namespace
}  // namespace tri::crdt::testing
