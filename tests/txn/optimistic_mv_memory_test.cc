// The multi-version memory and the collaborative scheduler of the optimistic
// executor, driven step by step on one thread.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "txn/parallel/block_stm_scheduler.h"
#include "txn/parallel/mv_memory.h"

namespace tri::txn {
namespace {

using Found = MvMemory::Found;
using Task = BlockStmScheduler::Task;

std::vector<KeyWrite> Writes(std::initializer_list<std::pair<const char*, const char*>> writes) {
  std::vector<KeyWrite> out;
  for (const auto& [key, value] : writes) {
    out.push_back(KeyWrite{key, value ? std::optional<std::string>(value) : std::nullopt});
  }
  return out;
}

TEST(OptimisticMvMemory, ReadSeesTheHighestVersionBelowTheReader) {
  MvMemory memory(5, 4);
  memory.Record(1, 0, Writes({{"k", "one"}}), {});
  memory.Record(3, 2, Writes({{"k", "three"}}), {});

  EXPECT_EQ(memory.Read("k", 0, true).found, Found::kStorage);
  EXPECT_EQ(memory.Read("k", 1, true).found, Found::kStorage);
  MvMemory::Lookup at2 = memory.Read("k", 2, true);
  EXPECT_EQ(at2.found, Found::kValue);
  EXPECT_EQ(at2.version, (Version{1, 0}));
  EXPECT_EQ(at2.value, "one");
  MvMemory::Lookup at4 = memory.Read("k", 4, true);
  EXPECT_EQ(at4.version, (Version{3, 2}));
  EXPECT_EQ(at4.value, "three");
  EXPECT_EQ(memory.Read("other", 4, true).found, Found::kStorage);
}

TEST(OptimisticMvMemory, ADeleteIsAVersionWithNoValue) {
  MvMemory memory(3, 4);
  memory.Record(0, 0, Writes({{"k", nullptr}}), {});
  MvMemory::Lookup lookup = memory.Read("k", 2, true);
  EXPECT_EQ(lookup.found, Found::kValue);
  EXPECT_EQ(lookup.version, (Version{0, 0}));
  EXPECT_FALSE(lookup.value.has_value());
}

TEST(OptimisticMvMemory, AbortedWritesBecomeEstimatesUntilRewritten) {
  MvMemory memory(3, 4);
  memory.Record(1, 0, Writes({{"k", "v"}}), {});
  memory.MarkEstimates(1);
  MvMemory::Lookup lookup = memory.Read("k", 2, true);
  EXPECT_EQ(lookup.found, Found::kEstimate);
  EXPECT_EQ(lookup.version.txn, 1u);
  memory.Record(1, 1, Writes({{"k", "w"}}), {});
  lookup = memory.Read("k", 2, true);
  EXPECT_EQ(lookup.found, Found::kValue);
  EXPECT_EQ(lookup.version, (Version{1, 1}));
  EXPECT_EQ(lookup.value, "w");
}

TEST(OptimisticMvMemory, ANewIncarnationDropsKeysItNoLongerWritesAndReportsNewOnes) {
  MvMemory memory(3, 4);
  EXPECT_TRUE(memory.Record(0, 0, Writes({{"a", "1"}, {"b", "1"}}), {}));
  EXPECT_EQ(memory.KeyCountForTesting(), 2u);
  // Only "a" again: nothing new, "b" falls back to the base state.
  EXPECT_FALSE(memory.Record(0, 1, Writes({{"a", "2"}}), {}));
  EXPECT_EQ(memory.Read("b", 1, true).found, Found::kStorage);
  EXPECT_EQ(memory.KeyCountForTesting(), 1u);
  // "c" is new.
  EXPECT_TRUE(memory.Record(0, 2, Writes({{"a", "3"}, {"c", "3"}}), {}));
  // An aborted or timed-out incarnation writes nothing.
  EXPECT_FALSE(memory.Record(0, 3, {}, {}));
  EXPECT_EQ(memory.KeyCountForTesting(), 0u);
}

TEST(OptimisticMvMemory, ValidationFailsWhenAReadVersionChanged) {
  MvMemory memory(3, 4);
  memory.Record(0, 0, Writes({{"a", "1"}}), {});
  memory.Record(2, 0, {}, MvMemory::ReadSet{{"a", Version{0, 0}}, {"b", Version{}}});
  EXPECT_TRUE(memory.ValidateReads(2));

  // A lower transaction now writes "b", which 2 read from storage.
  memory.Record(1, 0, Writes({{"b", "x"}}), {});
  EXPECT_FALSE(memory.ValidateReads(2));
  memory.Record(1, 1, {}, {});
  EXPECT_TRUE(memory.ValidateReads(2));

  // A new incarnation of the writer of "a" changes the version.
  memory.Record(0, 1, Writes({{"a", "1"}}), {});
  EXPECT_FALSE(memory.ValidateReads(2));
  memory.Record(2, 1, {}, MvMemory::ReadSet{{"a", Version{0, 1}}});
  EXPECT_TRUE(memory.ValidateReads(2));
  memory.MarkEstimates(0);
  EXPECT_FALSE(memory.ValidateReads(2));
}

TEST(OptimisticMvMemory, ReleaseInPartsFreesEveryKey) {
  MvMemory memory(4, 8);
  std::vector<KeyWrite> writes;
  for (int key = 0; key < 64; ++key)
    writes.push_back(KeyWrite{"key" + std::to_string(key), "v"});
  std::sort(writes.begin(), writes.end(),
            [](const KeyWrite& a, const KeyWrite& b) { return a.key < b.key; });
  for (std::uint32_t txn = 0; txn < 4; ++txn)
    memory.Record(txn, 0, writes, {});
  EXPECT_EQ(memory.KeyCountForTesting(), 64u);
  memory.Release(0, 3);
  memory.Release(2, 3);
  // 64 keys over 8 shards: part 1's shards (1, 4, 7) hold some.
  EXPECT_GT(memory.KeyCountForTesting(), 0u);
  EXPECT_LT(memory.KeyCountForTesting(), 64u);
  memory.Release(1, 3);
  EXPECT_EQ(memory.KeyCountForTesting(), 0u);
}

// The next task, skipping the empty answers NextTask gives while it moves a
// counter past an index with nothing to do; kNone when several in a row are
// empty.
Task Next(BlockStmScheduler& scheduler) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    Task task = scheduler.NextTask();
    if (task.kind != Task::Kind::kNone) return task;
  }
  return {};
}

TEST(OptimisticScheduler, HandsOutExecutionsInOrderThenValidations) {
  BlockStmScheduler scheduler(2);
  Task first = Next(scheduler);
  EXPECT_EQ(first.kind, Task::Kind::kExecute);
  EXPECT_EQ(first.txn, 0u);
  Task second = Next(scheduler);
  EXPECT_EQ(second.kind, Task::Kind::kExecute);
  EXPECT_EQ(second.txn, 1u);
  EXPECT_EQ(Next(scheduler).kind, Task::Kind::kNone);  // both executing
  // Validation has passed neither (0 was executing when it looked): no
  // validation task comes back, they are handed out through validation_idx.
  EXPECT_EQ(scheduler.FinishExecution(0, 0, true).kind, Task::Kind::kNone);
  EXPECT_EQ(scheduler.FinishExecution(1, 0, true).kind, Task::Kind::kNone);
  Task validate0 = Next(scheduler);
  EXPECT_EQ(validate0.kind, Task::Kind::kValidate);
  EXPECT_EQ(validate0.txn, 0u);
  EXPECT_EQ(scheduler.FinishValidation(0, false).kind, Task::Kind::kNone);
  Task validate1 = Next(scheduler);
  EXPECT_EQ(validate1.kind, Task::Kind::kValidate);
  EXPECT_EQ(validate1.txn, 1u);
  EXPECT_FALSE(scheduler.done());
  EXPECT_EQ(scheduler.FinishValidation(1, false).kind, Task::Kind::kNone);
  EXPECT_EQ(Next(scheduler).kind, Task::Kind::kNone);
  EXPECT_TRUE(scheduler.done());
}

// Executes and validates both transactions of a two-transaction batch, up to
// the validation of transaction 1 (returned).
Task ExecuteBothAndValidateFirst(BlockStmScheduler& scheduler) {
  EXPECT_EQ(Next(scheduler).txn, 0u);
  EXPECT_EQ(Next(scheduler).txn, 1u);
  scheduler.FinishExecution(0, 0, true);
  scheduler.FinishExecution(1, 0, true);
  Task validate0 = Next(scheduler);
  EXPECT_EQ(validate0.kind, Task::Kind::kValidate);
  EXPECT_EQ(validate0.txn, 0u);
  scheduler.FinishValidation(0, false);
  return Next(scheduler);
}

TEST(OptimisticScheduler, AValidationAbortReexecutesWithTheNextIncarnationAndRevalidatesAbove) {
  BlockStmScheduler scheduler(2);
  Task validate1 = ExecuteBothAndValidateFirst(scheduler);
  ASSERT_EQ(validate1.kind, Task::Kind::kValidate);
  ASSERT_EQ(validate1.txn, 1u);
  EXPECT_TRUE(scheduler.TryValidationAbort(1, 0));
  EXPECT_FALSE(scheduler.TryValidationAbort(1, 0));  // one abort per execution
  Task again = scheduler.FinishValidation(1, true);
  EXPECT_EQ(again.kind, Task::Kind::kExecute);
  EXPECT_EQ(again.txn, 1u);
  EXPECT_EQ(again.incarnation, 1u);
  // Validation passed it already and it wrote nothing new: validate it now.
  Task validate = scheduler.FinishExecution(1, 1, false);
  EXPECT_EQ(validate.kind, Task::Kind::kValidate);
  EXPECT_EQ(validate.incarnation, 1u);
  EXPECT_EQ(scheduler.FinishValidation(1, false).kind, Task::Kind::kNone);
  EXPECT_EQ(Next(scheduler).kind, Task::Kind::kNone);
  EXPECT_TRUE(scheduler.done());
  EXPECT_EQ(scheduler.validation_aborts(), 1u);
}

TEST(OptimisticScheduler, AReexecutionThatWritesANewKeyRevalidatesFromItsIndex) {
  BlockStmScheduler scheduler(2);
  EXPECT_EQ(Next(scheduler).txn, 0u);
  EXPECT_EQ(Next(scheduler).txn, 1u);
  scheduler.FinishExecution(0, 0, true);
  scheduler.FinishExecution(1, 0, true);
  Task validate0 = Next(scheduler);
  ASSERT_EQ(validate0.kind, Task::Kind::kValidate);
  ASSERT_EQ(validate0.txn, 0u);
  // The validation of 0 fails: 0 runs again at once.
  EXPECT_TRUE(scheduler.TryValidationAbort(0, 0));
  Task again = scheduler.FinishValidation(0, true);
  ASSERT_EQ(again.kind, Task::Kind::kExecute);
  EXPECT_EQ(again.incarnation, 1u);
  // It wrote a key its first incarnation did not: no validation task comes
  // back; validation_idx goes back to 0 instead, and 1 is validated after it.
  EXPECT_EQ(scheduler.FinishExecution(0, 1, true).kind, Task::Kind::kNone);
  Task revalidate0 = Next(scheduler);
  EXPECT_EQ(revalidate0.kind, Task::Kind::kValidate);
  EXPECT_EQ(revalidate0.txn, 0u);
  EXPECT_EQ(revalidate0.incarnation, 1u);
  scheduler.FinishValidation(0, false);
  Task validate1 = Next(scheduler);
  EXPECT_EQ(validate1.kind, Task::Kind::kValidate);
  EXPECT_EQ(validate1.txn, 1u);
  EXPECT_EQ(validate1.incarnation, 0u);
  scheduler.FinishValidation(1, false);
  EXPECT_EQ(Next(scheduler).kind, Task::Kind::kNone);
  EXPECT_TRUE(scheduler.done());
}

TEST(OptimisticScheduler, ADependencySuspendsUntilTheBlockingTransactionFinishes) {
  BlockStmScheduler scheduler(2);
  EXPECT_EQ(Next(scheduler).txn, 0u);
  EXPECT_EQ(Next(scheduler).txn, 1u);
  EXPECT_TRUE(scheduler.AddDependency(1, 0));
  EXPECT_EQ(scheduler.FinishExecution(0, 0, true).kind, Task::Kind::kNone);
  // 1 is ready again with its next incarnation, and execution_idx went back.
  Task resumed = Next(scheduler);
  while (resumed.kind == Task::Kind::kValidate) {
    scheduler.FinishValidation(resumed.txn, false);
    resumed = Next(scheduler);
  }
  EXPECT_EQ(resumed.kind, Task::Kind::kExecute);
  EXPECT_EQ(resumed.txn, 1u);
  EXPECT_EQ(resumed.incarnation, 1u);
  // Once 0 has finished, a wait on it is refused: retry at once.
  EXPECT_FALSE(scheduler.AddDependency(1, 0));
  EXPECT_EQ(scheduler.RetryIncarnation(1), 2u);
  EXPECT_EQ(scheduler.dependency_waits(), 1u);
}

TEST(OptimisticScheduler, AnEmptyBatchIsDoneAtOnce) {
  BlockStmScheduler scheduler(0);
  EXPECT_TRUE(scheduler.done());
  EXPECT_EQ(scheduler.NextTask().kind, Task::Kind::kNone);
}

}  // namespace
}  // namespace tri::txn
