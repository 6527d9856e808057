// Convergence of the crdt-clocks types on the shared harness
// (tests/crdt/convergence.h): seeded batches of random schedules (deltas lost,
// duplicated and reordered, then anti-entropy), every replica checked against the
// type's model; the merge laws; RapidCheck's shrinkable version of the same
// property; and one deliberately broken merge per type, which must be caught.
//
// CRDT_CLOCKS_SCHEDULES (environment) sets the schedules per batch; the default
// makes each type's batches add up to 10^6 per run (docs/crdt-clocks.md).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include "crdt/clocks_specs.h"

namespace tri::crdt::testing {
namespace {

// Each type runs kBatches gtest cases (ctest runs them in parallel).
constexpr std::uint64_t kBatches = 4;
constexpr std::uint64_t kDefaultSchedulesPerBatch = 250'000;

std::uint64_t SchedulesPerBatch() {
  const char* env = std::getenv("CRDT_CLOCKS_SCHEDULES");
  if (env == nullptr || *env == '\0') return kDefaultSchedulesPerBatch;
  return std::strtoull(env, nullptr, 10);
}

// Batch b of a type runs seeds [b * per_batch + 1, (b + 1) * per_batch].
template <class Spec>
void RunBatch(const char* type, std::uint64_t batch) {
  const std::uint64_t per_batch = SchedulesPerBatch();
  const auto start = std::chrono::steady_clock::now();
  const BatchResult result = RunSchedules<Spec>(batch * per_batch + 1, per_batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.failure;
  EXPECT_EQ(result.schedules_run, per_batch);
  std::cout << type << " batch " << batch << ": " << result.schedules_run << " schedules in "
            << seconds << " s (" << (seconds * 1e6 / static_cast<double>(per_batch))
            << " us each)\n";
}

#define CLOCKS_CONVERGENCE_BATCHES(Name, Spec)                                    \
  TEST(Name##Convergence, Batch0Converges) {                                      \
    RunBatch<Spec>(#Name, 0);                                                     \
  }                                                                               \
  TEST(Name##Convergence, Batch1Converges) {                                      \
    RunBatch<Spec>(#Name, 1);                                                     \
  }                                                                               \
  TEST(Name##Convergence, Batch2Converges) {                                      \
    RunBatch<Spec>(#Name, 2);                                                     \
  }                                                                               \
  TEST(Name##Convergence, Batch3Converges) {                                      \
    RunBatch<Spec>(#Name, 3);                                                     \
  }                                                                               \
  TEST(Name##Convergence, MergeIsCommutativeAssociativeIdempotent) {              \
    const BatchResult laws = RunMergeLaws<Spec>(1, 20'000);                       \
    EXPECT_TRUE(laws.ok()) << laws.failure;                                       \
  }                                                                               \
  RC_GTEST_PROP(Name##Convergence, ShrinkableSchedulesConverge, ()) {             \
    const Script script = *GenScript();                                           \
    const Outcome outcome = RunScript<Spec>(script, {.check_every_step = true});  \
    RC_LOG() << outcome.failure << "\nscript " << ScriptToString(script) << "\n"; \
    RC_ASSERT(outcome.ok());                                                      \
  }

static_assert(kBatches == 4, "CLOCKS_CONVERGENCE_BATCHES defines four batch cases");

CLOCKS_CONVERGENCE_BATCHES(GCounter, GCounterSpec)
CLOCKS_CONVERGENCE_BATCHES(PNCounter, PNCounterSpec)
CLOCKS_CONVERGENCE_BATCHES(LwwRegister, LwwRegisterSpec)
CLOCKS_CONVERGENCE_BATCHES(MvRegister, MvRegisterSpec)
CLOCKS_CONVERGENCE_BATCHES(LwwMap, LwwMapSpec)

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

TEST(BrokenClocksTypes, SumMergeGCounterCountsADuplicateTwice) {
  ExpectCaught<SumMergeGCounterSpec>("the increments seen make");
  EXPECT_FALSE(RunMergeLaws<SumMergeGCounterSpec>(1, 1'000).ok());
}

TEST(BrokenClocksTypes, FirstWriterWinsRegisterLetsAWriteLoseToOneItSaw) {
  ExpectCaught<FirstWriterWinsRegisterSpec>("the last write seen is");
}

TEST(BrokenClocksTypes, ContextBlindMvRegisterResurrectsAnOverwrittenValue) {
  ExpectCaught<ContextBlindMvRegisterSpec>("not overwritten are");
}

TEST(BrokenClocksTypes, PutBeatsRemoveMapBringsBackARemovedKey) {
  ExpectCaught<PutBeatsRemoveMapSpec>("the last writes seen per key are");
}

}  // namespace
}  // namespace tri::crdt::testing
