// The state machine: applying entries, refusing bad ones, time, snapshots, hashes.

#include "rsm/state_machine.h"

#include <gtest/gtest.h>

#include <string>

#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::PutReq;
using testing::RangeReq;

std::string KvEntry(const KvRequest& request, std::uint64_t request_id = 7,
                    std::uint64_t timestamp_ms = 1000) {
  return EncodeCommand(
      Command{CommandKind::kKv, request_id, timestamp_ms, EncodeKvRequest(request)});
}

TEST(StateMachine, ApplyEchoesTheRequestIdAndAnswersTheResponse) {
  StateMachine sm;
  const Applied applied = sm.Apply(1, KvEntry(PutReq("a", "1"), 42));
  EXPECT_EQ(applied.index, 1u);
  EXPECT_EQ(applied.request_id, 42u);
  EXPECT_EQ(applied.revision, 2);
  ASSERT_TRUE(applied.result.ok());
  EXPECT_EQ(std::get<PutResponse>(*applied.result).header.revision, 2);
  EXPECT_EQ(sm.applied_index(), 1u);
  EXPECT_EQ(sm.Range(RangeReq("a"))->kvs[0].value, "1");
}

TEST(StateMachine, AnEntryThatDoesNotDecodeIsAnErrorResultAndStillAdvancesTheIndex) {
  StateMachine sm;
  const Applied applied = sm.Apply(3, "garbage");
  ASSERT_FALSE(applied.result.ok());
  EXPECT_EQ(applied.result.error().grpc_code, GrpcCode::kInvalidArgument);
  EXPECT_NE(applied.result.error().message.find("entry 3"), std::string::npos);
  EXPECT_EQ(applied.request_id, 0u);
  EXPECT_EQ(sm.applied_index(), 3u);
  EXPECT_EQ(sm.store().current_revision(), 1);
}

TEST(StateMachine, AnUndecodablePayloadKeepsTheRequestIdForRouting) {
  StateMachine sm;
  const Applied applied =
      sm.Apply(1, EncodeCommand(Command{CommandKind::kKv, 5, 0, std::string(1, '\x04')}));
  ASSERT_FALSE(applied.result.ok());
  EXPECT_EQ(applied.request_id, 5u);
  EXPECT_NE(applied.result.error().message.find("TxnRequest.compare"), std::string::npos)
      << applied.result.error().message;
}

TEST(StateMachine, AnUnknownCommandKindIsUnimplemented) {
  StateMachine sm;
  const Applied applied =
      sm.Apply(1, EncodeCommand(Command{static_cast<CommandKind>(9), 5, 0, "x"}));
  ASSERT_FALSE(applied.result.ok());
  EXPECT_EQ(applied.result.error().grpc_code, GrpcCode::kUnimplemented);
}

TEST(StateMachine, APayloadOverMaxRequestBytesFailsRequestTooLarge) {
  KvOptions options;
  options.max_request_bytes = 16;
  StateMachine sm(options);
  const Applied applied = sm.Apply(1, KvEntry(PutReq("a", std::string(32, 'v'))));
  ASSERT_FALSE(applied.result.ok());
  EXPECT_EQ(applied.result.error(), ErrRequestTooLarge());
  EXPECT_TRUE(sm.Apply(2, KvEntry(PutReq("a", "v"))).result.ok());
}

TEST(StateMachine, TimeIsTheLargestStampSeenAndNeverDecreases) {
  StateMachine sm;
  (void)sm.Apply(1, KvEntry(PutReq("a", "1"), 1, 5000));
  EXPECT_EQ(sm.time_ms(), 5000u);
  (void)sm.Apply(2, KvEntry(PutReq("a", "1"), 1, 4000));  // a new leader's slower clock
  EXPECT_EQ(sm.time_ms(), 5000u);
  (void)sm.Apply(3, KvEntry(PutReq("a", "1"), 1, 6000));
  EXPECT_EQ(sm.time_ms(), 6000u);
}

TEST(StateMachine, TheAlarmDisarmCommandClearsTheNoSpaceAlarm) {
  KvOptions options;
  options.quota_bytes = 100;
  StateMachine sm(options);
  EXPECT_EQ(sm.Apply(1, KvEntry(PutReq("a", std::string(200, 'v')))).result.error(), ErrNoSpace());
  ASSERT_TRUE(sm.store().nospace_alarm());
  const std::string disarm = EncodeCommand(
      Command{CommandKind::kAlarm, 9, 0,
              EncodeAlarmRequest(AlarmRequest{AlarmRequest::DEACTIVATE, 1, AlarmType::NOSPACE})});
  const Applied applied = sm.Apply(2, disarm);
  ASSERT_TRUE(applied.result.ok());
  EXPECT_FALSE(sm.store().nospace_alarm());
  EXPECT_TRUE(std::holds_alternative<AlarmResponse>(*applied.result));
}

TEST(StateMachine, ReplicasApplyingTheSameEntriesHaveEqualHashes) {
  StateMachine a;
  StateMachine b;
  const std::vector<std::string> entries = {KvEntry(PutReq("a", "1")), "junk",
                                            KvEntry(PutReq("b", "2")),
                                            KvEntry(CompactionRequest{2, false})};
  std::uint64_t index = 0;
  for (const std::string& entry : entries) {
    ++index;
    (void)a.Apply(index, entry);
    (void)b.Apply(index, entry);
    EXPECT_EQ(a.StateHash(), b.StateHash());
    EXPECT_EQ(a.HashKV(0)->hash, b.HashKV(0)->hash);
  }
  StateMachine c;
  (void)c.Apply(1, KvEntry(PutReq("a", "other")));
  EXPECT_NE(a.StateHash(), c.StateHash());
}

TEST(StateMachine, RestoreOfASnapshotGivesTheSameStateAndAnswers) {
  StateMachine sm;
  (void)sm.Apply(1, KvEntry(PutReq("a", "1"), 1, 10));
  (void)sm.Apply(2, KvEntry(PutReq("a", "2"), 1, 20));
  (void)sm.Apply(5, KvEntry(testing::DeleteReq("a")));
  (void)sm.Apply(6, KvEntry(PutReq("b", "3")));
  (void)sm.Apply(7, KvEntry(CompactionRequest{3, false}));
  StateMachine restored;
  ASSERT_TRUE(restored.Restore(sm.Snapshot()).ok());
  EXPECT_EQ(restored.Snapshot(), sm.Snapshot());
  EXPECT_EQ(restored.StateHash(), sm.StateHash());
  EXPECT_EQ(restored.applied_index(), 7u);
  EXPECT_EQ(restored.time_ms(), 1000u);
  EXPECT_EQ(restored.store().used_bytes(), sm.store().used_bytes());
  RangeRequest at3 = RangeReq("a", "c");
  at3.revision = 3;
  EXPECT_TRUE(*restored.Range(at3) == *sm.Range(at3));
}

TEST(StateMachine, RestoreRejectsBadInputAndLeavesTheStateAlone) {
  StateMachine sm;
  (void)sm.Apply(1, KvEntry(PutReq("a", "1")));
  const std::string good = sm.Snapshot();
  const std::string before = sm.Snapshot();
  std::string wrong_version = good;
  wrong_version[kStateSnapshotMagic.size()] = 9;
  for (const std::string& bad :
       {std::string("nope"), wrong_version, good + "x", good.substr(0, good.size() - 1)}) {
    const Status status = sm.Restore(bad);
    EXPECT_FALSE(status.ok());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(sm.Snapshot(), before);
  }
}

TEST(StateMachine, RestoreRejectsAStoreThatWritesCouldNotHaveBuilt) {
  // A hand-built body: current 3, no compaction, key "a" with a tombstone first.
  std::string body(kStateSnapshotMagic);
  coding::PutFixed32(body, kStateSnapshotVersion);
  coding::PutVarint64(body, 1);  // applied index
  coding::PutVarint64(body, 0);  // time
  coding::PutVarint64(body, 3);  // current revision
  coding::PutVarint64(body, 0);  // compact revision
  coding::PutFixed8(body, 0);    // alarm
  coding::PutVarint64(body, 1);  // keys
  coding::PutLengthPrefixed(body, "a");
  coding::PutVarint64(body, 1);  // revisions
  coding::PutVarint64(body, 2);  // main
  coding::PutVarint64(body, 0);  // sub
  coding::PutFixed8(body, 1);    // tombstone
  StateMachine sm;
  const Status status = sm.Restore(body);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("tombstone of a key that does not exist"), std::string::npos)
      << status.message();
}

TEST(StateMachineDeathTest, ApplyingAnIndexNotAboveTheAppliedIndexStops) {
  StateMachine sm;
  (void)sm.Apply(2, "x");
  EXPECT_DEATH((void)sm.Apply(2, "x"), "increasing index");
}

}  // namespace
}  // namespace tri::rsm
