// Convergence of the crdt-clocks types on the shared harness
// (tests/crdt/convergence.h): seeded batches of random schedules (deltas lost,
// duplicated and reordered, then anti-entropy), every replica checked against the
// type's model; the merge laws; RapidCheck's shrinkable version of the same
// property; and one deliberately broken merge per type, which must be caught.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <type_traits>

#include "crdt/clocks_specs.h"

namespace tri::crdt::testing {
namespace {

// Each type's 10^6 schedules (CRDT_SCHEDULES overrides, CRDT_SEED shifts the
// seeds: scripts/crdt-soak.sh) run as kBatches gtest cases, which ctest runs side
// by side; each prints its count and time per schedule ("[crdt] ...").
constexpr std::uint64_t kSchedules = 1'000'000;

// The CRDT inside a harness state (the LWW types carry a clock beside it).
template <class T>
const T& CrdtOf(const T& state) {
  return state;
}
template <class T>
const T& CrdtOf(const ClockedReplica<T>& state) {
  return state.crdt;
}

// Every replica state reachable by a seeded schedule (before anti-entropy)
// encodes to bytes that decode to the same state.
template <class Spec>
std::string CheckRoundTrips(std::uint64_t first_seed, std::uint64_t count) {
  Script script;
  for (std::uint64_t seed = first_seed; seed < first_seed + count; ++seed) {
    SeededRng rng(seed);
    GenerateScript(rng, {}, script);
    for (const auto& state : StatesAfter<Spec>(script)) {
      const auto& crdt = CrdtOf(state);
      const std::string bytes = crdt.Encode();
      auto decoded = std::decay_t<decltype(crdt)>::Decode(bytes);
      if (!decoded.ok() || !(*decoded == crdt)) {
        return "seed " + std::to_string(seed) + ": " + crdt.ToString() + " does not round-trip (" +
               (decoded.ok() ? decoded->ToString() : decoded.status().ToString()) + ")";
      }
    }
  }
  return "";
}
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
  TEST(Name##Properties, EncodingRoundTripsOnReachableStates) {                                    \
    EXPECT_EQ(CheckRoundTrips<Spec>(1, 10'000), "");                                               \
  }                                                                                                \
  RC_GTEST_PROP(Name##Properties, ShrinkableMergeLawsHold, ()) {                                   \
    const auto states = StatesAfter<Spec>(*GenScript(3, 3));                                       \
    const std::string error = CheckMergeLaws<Spec>(states[0], states[1], states[2]);               \
    RC_LOG() << error << "\n";                                                                     \
    RC_ASSERT(error.empty());                                                                      \
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
// The failure is the replicas diverging or the model's complaint (`model_phrase`),
// whichever the schedule meets first.
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
