// StateMachine::ApplyBatch answers and leaves exactly what Apply on each entry
// in turn does, whatever executor, scheduler, batch cut and fallback.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "random_requests.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/lease_codec.h"
#include "rsm/state_machine.h"
#include "rsm_test_util.h"
#include "txn/executor.h"
#include "txn/parallel/parallel_executor.h"

namespace tri::rsm {
namespace {

using testing::Cmp;
using testing::Op;
using testing::PutReq;
using testing::TxnReq;
using testing::Uniform;
using testing::ValueIs;

std::string KvEntry(const KvRequest& request, std::uint64_t request_id) {
  return EncodeCommand(Command{CommandKind::kKv, request_id, 1000, EncodeKvRequest(request)});
}

std::string LeaseEntry(const LeaseCommand& command, std::uint64_t request_id) {
  return EncodeCommand(Command{CommandKind::kLease, request_id, 1000, EncodeLeaseCommand(command)});
}

// A txn that puts `key` unconditionally.
TxnRequest PutTxn(const std::string& key, const std::string& value) {
  return TxnReq({}, {Op(PutReq(key, value))}, {});
}

// Every field of Applied the client sees, plus the replies' presence.
void ExpectSameApplied(const Applied& serial, const Applied& batch) {
  EXPECT_EQ(serial.index, batch.index);
  EXPECT_EQ(serial.request_id, batch.request_id) << "entry " << serial.index;
  EXPECT_EQ(serial.revision, batch.revision) << "entry " << serial.index;
  ASSERT_EQ(serial.result.ok(), batch.result.ok()) << "entry " << serial.index;
  if (serial.result.ok()) {
    EXPECT_TRUE(*serial.result == *batch.result) << "entry " << serial.index;
  } else {
    EXPECT_EQ(serial.result.error(), batch.result.error()) << "entry " << serial.index;
  }
  EXPECT_EQ(serial.lease, batch.lease) << "entry " << serial.index;
  EXPECT_EQ(serial.saga.has_value(), batch.saga.has_value());
  EXPECT_EQ(serial.lock.has_value(), batch.lock.has_value());
  EXPECT_EQ(serial.barrier.has_value(), batch.barrier.has_value());
}

void ExpectSameState(StateMachine& serial, StateMachine& batch) {
  EXPECT_EQ(serial.StateHash(), batch.StateHash());
  EXPECT_EQ(serial.Snapshot(), batch.Snapshot());
  EXPECT_EQ(serial.applied_index(), batch.applied_index());
  const TakenEvents a = serial.TakeEvents();
  const TakenEvents b = batch.TakeEvents();
  EXPECT_EQ(a.dropped, b.dropped);
  EXPECT_EQ(a.events, b.events);
}

// Applies `entries` one by one to `serial` and by ApplyBatch to `batch`.
void ExpectBatchIsSerial(StateMachine& serial, StateMachine& batch,
                         const std::vector<std::string>& entries, std::uint64_t first_index,
                         const ParallelApplyOptions& options) {
  std::vector<Applied> expected;
  std::vector<BatchEntry> batch_entries;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    expected.push_back(serial.Apply(first_index + i, entries[i]));
    batch_entries.push_back(BatchEntry{first_index + i, entries[i]});
  }
  const std::vector<Applied> got = batch.ApplyBatch(batch_entries, options);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    ExpectSameApplied(expected[i], got[i]);
  ExpectSameState(serial, batch);
}

// A random entry: any KV request (with leases, quota and history edges), a
// lease grant or revoke, or an entry that does not decode.
std::string GenEntry(const StateMachine& sm, std::uint64_t request_id) {
  const testing::Revisions at{sm.store().current_revision(), sm.store().compact_revision()};
  switch (Uniform<int>(0, 20)) {
    case 0:
      return LeaseEntry(LeaseGrant{Uniform<std::int64_t>(1, 3), 100}, request_id);
    case 1:
      return LeaseEntry(LeaseRevoke{Uniform<std::int64_t>(1, 3)}, request_id);
    case 2:
      return "not an entry";
    case 3:
    case 4: {
      PutRequest put = testing::GenPut(testing::GenKey());
      if (!put.ignore_lease) put.lease = Uniform<std::int64_t>(0, 3);
      return KvEntry(put, request_id);
    }
    case 5:
    case 6:
    case 7:
    case 8:
      return KvEntry(testing::GenTxn(at.current), request_id);
    case 9:
      return KvEntry(testing::GenDelete(testing::GenKey(), true), request_id);
    default:
      return KvEntry(testing::GenRequest(at), request_id);
  }
}

std::unique_ptr<txn::BatchExecutor> GenExecutor() {
  if (Uniform<int>(0, 2) == 0) return std::make_unique<txn::SerialExecutor>();
  auto parallel = txn::ParallelExecutor::Create(Uniform<std::size_t>(1, 5));
  RC_ASSERT(parallel.ok());
  return std::move(parallel).value();
}

RC_GTEST_PROP(ParallelApply, ApplyBatchAnswersAndLeavesExactlyWhatApplyOneByOneDoes, ()) {
  KvOptions kv;
  // Small enough that some runs hit the quota part way.
  if (Uniform<int>(0, 3) == 0) kv.quota_bytes = Uniform<std::uint64_t>(200, 3000);
  LeaseOptions leases;
  leases.max_keys_per_lease = Uniform<std::size_t>(1, 4);
  StateMachine serial(kv, {}, leases);
  StateMachine batch(kv, {}, leases);
  std::unique_ptr<txn::BatchExecutor> executor = GenExecutor();
  // The serial reference checks the declared sets under kDeclared, so the
  // declarations the batch makes are checked too.
  const auto scheduler = *rc::gen::element(txn::Scheduler::kSerial, txn::Scheduler::kDeclared,
                                           txn::Scheduler::kOptimistic);
  ParallelApplyOptions options;
  options.executor = executor.get();
  options.scheduler = scheduler;
  options.min_batch = Uniform<std::size_t>(1, 5);
  options.max_batch = Uniform<std::size_t>(1, 12);
  ParallelApplyStats stats;
  options.stats = &stats;

  std::uint64_t index = 1;
  const int rounds = Uniform<int>(1, 5);
  for (int round = 0; round < rounds; ++round) {
    // Entries are generated against the serial machine's state before the
    // round, so revisions hit its history's edges.
    std::vector<std::string> entries;
    const int n = Uniform<int>(0, 40);
    for (int i = 0; i < n; ++i)
      entries.push_back(GenEntry(serial, index + i));
    ExpectBatchIsSerial(serial, batch, entries, index, options);
    index += static_cast<std::uint64_t>(n) + 1;  // a gap, as the node leaves
  }
  RC_TAG(stats.fallbacks > 0 ? "fell back" : "no fallback");
  RC_TAG(stats.planned_entries > 0 ? "planned" : "not planned");
}

class ParallelApplyTest : public ::testing::Test {
 protected:
  void Run(const std::vector<std::string>& entries, txn::Scheduler scheduler) {
    ParallelApplyOptions options;
    options.executor = &executor_;
    options.scheduler = scheduler;
    options.min_batch = 2;
    options.stats = &stats_;
    ExpectBatchIsSerial(serial_, batch_, entries, next_index_, options);
    next_index_ += entries.size();
  }

  txn::SerialExecutor executor_;
  StateMachine serial_;
  StateMachine batch_;
  ParallelApplyStats stats_;
  std::uint64_t next_index_ = 1;
};

TEST_F(ParallelApplyTest, PutsAndValueComparesApplyOnTheirPredictions) {
  std::vector<std::string> entries;
  for (int i = 0; i < 20; ++i) {
    entries.push_back(KvEntry(PutReq("k" + std::to_string(i % 5), std::to_string(i)), i + 1));
    entries.push_back(KvEntry(TxnReq({ValueIs("k" + std::to_string(i % 5), std::to_string(i))},
                                     {Op(PutReq("ok" + std::to_string(i), "y"))},
                                     {Op(PutReq("bad" + std::to_string(i), "n"))}),
                              100 + i));
  }
  Run(entries, txn::Scheduler::kDeclared);
  EXPECT_EQ(stats_.runs, 1u);
  EXPECT_EQ(stats_.planned_entries, entries.size());
  EXPECT_EQ(stats_.fallbacks, 0u);
  EXPECT_EQ(batch_.Range(testing::RangeReq("ok19"))->kvs.size(), 1u);
  EXPECT_EQ(batch_.Range(testing::RangeReq("bad19"))->kvs.size(), 0u);
}

TEST_F(ParallelApplyTest, AModRevisionCompareOnAKeyWrittenInTheRunAppliesTheRestByApply) {
  Compare mod = Cmp("a", Compare::MOD, Compare::EQUAL);
  mod.mod_revision = 2;
  const std::vector<std::string> entries = {
      KvEntry(PutReq("a", "1"), 1), KvEntry(PutReq("b", "1"), 2),
      KvEntry(TxnReq({mod}, {Op(PutReq("c", "hit"))}, {}), 3), KvEntry(PutReq("d", "1"), 4)};
  Run(entries, txn::Scheduler::kOptimistic);
  EXPECT_EQ(stats_.planned_entries, 2u);
  EXPECT_EQ(stats_.serial_entries, 2u);
  EXPECT_EQ(stats_.fallbacks, 1u);
  EXPECT_EQ(batch_.Range(testing::RangeReq("c"))->kvs.size(), 1u);
}

TEST_F(ParallelApplyTest, EntriesOutsideTheModelSplitRunsAndApplyByApply) {
  const std::vector<std::string> entries = {
      KvEntry(PutTxn("a", "1"), 1),
      KvEntry(PutReq("b", "1"), 2),
      KvEntry(testing::DeleteReq("a", "z"), 3),  // a key range
      KvEntry(PutTxn("c", "1"), 4),
      LeaseEntry(LeaseGrant{5, 60}, 5),
      KvEntry(PutReq("d", "1"), 6),
      KvEntry(PutReq("e", "1"), 7),
      KvEntry(TxnReq({Cmp("z", Compare::VERSION, Compare::EQUAL)}, {}, {}), 8),
      KvEntry(CompactionRequest{2, false}, 9),
      KvEntry(PutReq("f", "1"), 10),
      KvEntry(PutReq("g", "1"), 11)};
  Run(entries, txn::Scheduler::kOptimistic);
  // [a, b] and [d, e, txn]; [c] is shorter than min_batch; [f, g] has no txn.
  EXPECT_EQ(stats_.runs, 2u);
  EXPECT_EQ(stats_.planned_entries, 5u);
  EXPECT_EQ(stats_.serial_entries, 6u);
}

TEST(ParallelApply, AQuotaRefusalPartWayAppliesTheRestByApply) {
  KvOptions kv;
  kv.quota_bytes = 3 * (kRevisionOverheadBytes + 2);
  StateMachine serial(kv);
  StateMachine batch(kv);
  std::vector<std::string> entries;
  for (int i = 0; i < 6; ++i)
    entries.push_back(KvEntry(PutTxn("k" + std::to_string(i), "v"), i + 1));
  txn::SerialExecutor executor;
  ParallelApplyStats stats;
  ParallelApplyOptions options{.executor = &executor, .min_batch = 2, .stats = &stats};
  ExpectBatchIsSerial(serial, batch, entries, 1, options);
  EXPECT_EQ(stats.fallbacks, 1u);
  EXPECT_TRUE(batch.store().nospace_alarm());
}

TEST(ParallelApply, WithoutAnExecutorEveryEntryAppliesByApply) {
  StateMachine serial;
  StateMachine batch;
  ParallelApplyStats stats;
  ParallelApplyOptions options{.min_batch = 1, .stats = &stats};
  ExpectBatchIsSerial(serial, batch, {KvEntry(PutReq("a", "1"), 1), KvEntry(PutReq("b", "1"), 2)},
                      1, options);
  EXPECT_EQ(stats.serial_entries, 2u);
  EXPECT_EQ(stats.runs, 0u);
}

}  // namespace
}  // namespace tri::rsm
