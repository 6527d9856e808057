// The quota and the NOSPACE alarm (docs/rsm.md, "Bounds and errors").

#include <gtest/gtest.h>

#include <string>

#include "rsm/mvcc_store.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::DeleteReq;
using testing::MustPut;
using testing::MustRange;
using testing::Op;
using testing::PutReq;
using testing::RangeReq;
using testing::TxnReq;

// Room for exactly two revisions of a 1-byte key with a 10-byte value.
KvOptions TwoPutQuota() {
  KvOptions options;
  options.quota_bytes = 2 * (1 + 10 + kRevisionOverheadBytes);
  return options;
}

AlarmRequest Disarm() {
  return AlarmRequest{AlarmRequest::DEACTIVATE, 1, AlarmType::NOSPACE};
}

TEST(Quota, UsedBytesCountKeyValueAndOverheadOfEveryKeptRevision) {
  MvccStore store;
  MustPut(store, "ab", "xyz");
  EXPECT_EQ(store.used_bytes(), 2 + 3 + kRevisionOverheadBytes);
  MustPut(store, "ab", "");
  ASSERT_TRUE(store.DeleteRange(DeleteReq("ab")).ok());
  EXPECT_EQ(store.used_bytes(), 3 * (2 + kRevisionOverheadBytes) + 3);
}

TEST(Quota, APutThatWouldExceedTheQuotaFailsNoSpaceAndRaisesTheAlarm) {
  MvccStore store(TwoPutQuota());
  MustPut(store, "a", std::string(10, 'v'));
  MustPut(store, "a", std::string(10, 'v'));
  auto r = store.Put(PutReq("a", "v"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: mvcc: database space exceeded");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kResourceExhausted);
  EXPECT_TRUE(store.nospace_alarm());
  EXPECT_EQ(store.current_revision(), 3);
}

TEST(Quota, WhileTheAlarmIsRaisedEveryPutFailsEvenOneThatFits) {
  MvccStore store(TwoPutQuota());
  ASSERT_TRUE(store.Alarm(AlarmRequest{AlarmRequest::ACTIVATE, 1, AlarmType::NOSPACE}).ok());
  EXPECT_EQ(store.Put(PutReq("a", "v")).error(), ErrNoSpace());
  EXPECT_EQ(store.Txn(TxnReq({}, {Op(PutReq("a", "v"))})).error(), ErrNoSpace());
}

TEST(Quota, WhileTheAlarmIsRaisedReadsDeletesCompactionAndReadOnlyTxnsWork) {
  MvccStore store(TwoPutQuota());
  MustPut(store, "a", "v");
  ASSERT_TRUE(store.Alarm(AlarmRequest{AlarmRequest::ACTIVATE, 1, AlarmType::NOSPACE}).ok());
  EXPECT_EQ(MustRange(store, RangeReq("a")).kvs.size(), 1u);
  EXPECT_TRUE(store.Txn(TxnReq({}, {Op(RangeReq("a"))})).ok());
  EXPECT_TRUE(store.DeleteRange(DeleteReq("a")).ok());
  EXPECT_TRUE(store.Txn(TxnReq({}, {Op(DeleteReq("b"))})).ok());
  EXPECT_TRUE(store.Compact(CompactionRequest{store.current_revision(), false}).ok());
  EXPECT_EQ(store.used_bytes(), 0u);
}

TEST(Quota, ATxnWhosePutsWouldExceedTheQuotaChangesNothing) {
  MvccStore store(TwoPutQuota());
  MustPut(store, "a", std::string(10, 'v'));
  auto r = store.Txn(
      TxnReq({}, {Op(PutReq("b", std::string(10, 'v'))), Op(PutReq("c", std::string(10, 'v')))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrNoSpace());
  EXPECT_EQ(store.current_revision(), 2);
  EXPECT_EQ(store.used_bytes(), 1 + 10 + kRevisionOverheadBytes);
}

TEST(Quota, DisarmingClearsTheAlarmAndAPutThatFitsWorksAgain) {
  MvccStore store(TwoPutQuota());
  MustPut(store, "a", std::string(10, 'v'));
  ASSERT_FALSE(store.Put(PutReq("b", std::string(100, 'v'))).ok());
  ASSERT_TRUE(store.nospace_alarm());
  auto disarmed = store.Alarm(Disarm());
  ASSERT_TRUE(disarmed.ok());
  EXPECT_EQ(disarmed->alarms, (std::vector<AlarmMember>{{1, AlarmType::NOSPACE}}));
  EXPECT_FALSE(store.nospace_alarm());
  EXPECT_TRUE(store.Put(PutReq("b", std::string(10, 'v'))).ok());
}

TEST(Quota, APutThatStillDoesNotFitAfterDisarmingRaisesTheAlarmAgain) {
  MvccStore store(TwoPutQuota());
  ASSERT_FALSE(store.Put(PutReq("b", std::string(1000, 'v'))).ok());
  ASSERT_TRUE(store.Alarm(Disarm()).ok());
  ASSERT_FALSE(store.Put(PutReq("b", std::string(1000, 'v'))).ok());
  EXPECT_TRUE(store.nospace_alarm());
}

TEST(Quota, DisarmingIsRefusedWhileStateIsStillOverTheQuota) {
  MvccStore store(TwoPutQuota());
  MustPut(store, "a", std::string(10, 'v'));
  MustPut(store, "b", std::string(10, 'v'));
  // Tombstones are never refused, so deletes can take state past the quota.
  ASSERT_TRUE(store.DeleteRange(DeleteReq("a", "c")).ok());
  ASSERT_GT(store.used_bytes(), TwoPutQuota().quota_bytes);
  ASSERT_TRUE(store.Alarm(AlarmRequest{AlarmRequest::ACTIVATE, 1, AlarmType::NOSPACE}).ok());
  EXPECT_EQ(store.Alarm(Disarm()).error(), ErrNoSpace());
  EXPECT_TRUE(store.nospace_alarm());
  ASSERT_TRUE(store.Compact(CompactionRequest{store.current_revision(), false}).ok());
  EXPECT_TRUE(store.Alarm(Disarm()).ok());
  EXPECT_FALSE(store.nospace_alarm());
}

TEST(Quota, AlarmGetListsTheRaisedAlarm) {
  MvccStore store;
  EXPECT_TRUE(store.Alarm(AlarmRequest{})->alarms.empty());
  ASSERT_TRUE(store.Alarm(AlarmRequest{AlarmRequest::ACTIVATE, 1, AlarmType::NOSPACE}).ok());
  EXPECT_EQ(store.Alarm(AlarmRequest{})->alarms,
            (std::vector<AlarmMember>{{0, AlarmType::NOSPACE}}));
}

TEST(Quota, CorruptAlarmIsNotImplemented) {
  MvccStore store;
  auto r = store.Alarm(AlarmRequest{AlarmRequest::ACTIVATE, 1, AlarmType::CORRUPT});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kUnimplemented);
}

}  // namespace
}  // namespace tri::rsm
