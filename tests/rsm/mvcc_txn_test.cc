// One test per Txn rule: one revision per txn, compares, branches, reads that see
// the txn's own writes, nested txns, duplicate keys, the op limit, atomic checks.

#include <gtest/gtest.h>

#include <string>

#include "rsm/mvcc_store.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::Cmp;
using testing::DeleteReq;
using testing::Keys;
using testing::MustPut;
using testing::MustRange;
using testing::Op;
using testing::PutReq;
using testing::RangeReq;
using testing::TxnReq;
using testing::ValueIs;
using testing::VersionIs;

TEST(MvccTxn, TxnWithTwoWritesBumpsRevisionOnce) {
  MvccStore store;
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(PutReq("b", "2"))}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(r->header.revision, 2);
  EXPECT_EQ(store.current_revision(), 2);
  const RangeResponse range = MustRange(store, RangeReq("a", "c"));
  ASSERT_EQ(range.kvs.size(), 2u);
  EXPECT_EQ(range.kvs[0].mod_revision, 2);
  EXPECT_EQ(range.kvs[1].mod_revision, 2);
}

TEST(MvccTxn, TxnThatWritesNothingDoesNotBumpRevision) {
  MvccStore store;
  MustPut(store, "a", "1");
  auto r = store.Txn(TxnReq({}, {Op(RangeReq("a")), Op(DeleteReq("zz"))}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->header.revision, 2);
  EXPECT_EQ(store.current_revision(), 2);
}

TEST(MvccTxn, AllComparesHoldingRunsTheSuccessBranch) {
  MvccStore store;
  MustPut(store, "a", "1");
  auto r = store.Txn(TxnReq({ValueIs("a", "1"), VersionIs("a", 1)}, {Op(PutReq("s", "1"))},
                            {Op(PutReq("f", "1"))}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(Keys(MustRange(store, RangeReq("f", "t"))), (std::vector<std::string>{"s"}));
}

TEST(MvccTxn, OneFailingCompareRunsTheFailureBranch) {
  MvccStore store;
  MustPut(store, "a", "1");
  auto r = store.Txn(TxnReq({ValueIs("a", "1"), VersionIs("a", 2)}, {Op(PutReq("s", "1"))},
                            {Op(PutReq("f", "1"))}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
  ASSERT_EQ(r->responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutResponse>(r->responses[0].response));
  EXPECT_EQ(Keys(MustRange(store, RangeReq("f", "t"))), (std::vector<std::string>{"f"}));
}

TEST(MvccTxn, ValueCompareOnAMissingKeyAlwaysFails) {
  MvccStore store;
  Compare not_equal = ValueIs("missing", "x");
  not_equal.result = Compare::NOT_EQUAL;
  auto r = store.Txn(TxnReq({not_equal}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
}

TEST(MvccTxn, VersionZeroCompareMatchesAMissingKey) {
  MvccStore store;
  auto r = store.Txn(TxnReq({VersionIs("missing", 0)}, {}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
  Compare create = Cmp("missing", Compare::CREATE, Compare::EQUAL);
  EXPECT_TRUE(store.Txn(TxnReq({create}, {}))->succeeded);
}

TEST(MvccTxn, RevisionComparesUseGreaterAndLess) {
  MvccStore store;
  MustPut(store, "a", "1");  // 2
  MustPut(store, "a", "2");  // 3
  Compare mod_greater = Cmp("a", Compare::MOD, Compare::GREATER);
  mod_greater.mod_revision = 2;
  Compare create_less = Cmp("a", Compare::CREATE, Compare::LESS);
  create_less.create_revision = 3;
  EXPECT_TRUE(store.Txn(TxnReq({mod_greater, create_less}, {}))->succeeded);
  mod_greater.mod_revision = 3;
  EXPECT_FALSE(store.Txn(TxnReq({mod_greater}, {}))->succeeded);
  Compare value_less = Cmp("a", Compare::VALUE, Compare::LESS);
  value_less.value = "3";
  EXPECT_TRUE(store.Txn(TxnReq({value_less}, {}))->succeeded);
}

TEST(MvccTxn, CompareOverARangeHoldsOnlyIfItHoldsForEveryKey) {
  MvccStore store;
  MustPut(store, "k1", "x");
  MustPut(store, "k2", "x");
  Compare all_x = ValueIs("k", "l");
  all_x.value = "x";
  all_x.range_end = "l";
  EXPECT_TRUE(store.Txn(TxnReq({all_x}, {}))->succeeded);
  MustPut(store, "k3", "y");
  EXPECT_FALSE(store.Txn(TxnReq({all_x}, {}))->succeeded);
}

TEST(MvccTxn, ReadsInsideATxnSeeTheTxnsEarlierWrites) {
  MvccStore store;
  MustPut(store, "a", "old");
  auto r = store.Txn(TxnReq({}, {Op(RangeReq("a")), Op(PutReq("a", "new")), Op(RangeReq("a")),
                                 Op(DeleteReq("b")), Op(RangeReq("a"))}));
  ASSERT_TRUE(r.ok());
  const auto& before = std::get<RangeResponse>(r->responses[0].response);
  const auto& after = std::get<RangeResponse>(r->responses[2].response);
  EXPECT_EQ(before.kvs[0].value, "old");
  EXPECT_EQ(before.header.revision, 2);
  EXPECT_EQ(after.kvs[0].value, "new");
  EXPECT_EQ(after.header.revision, 3);
  // A delete of a missing key after a write reports the txn's revision, like etcd.
  EXPECT_EQ(std::get<DeleteRangeResponse>(r->responses[3].response).header.revision, 3);
}

TEST(MvccTxn, NestedTxnComparesAreJudgedOnTheStateBeforeTheTxn) {
  MvccStore store;
  // The outer txn puts a=1, then a nested txn asks whether a exists: etcd
  // evaluates every compare before any write, so it does not.
  auto r = store.Txn(TxnReq(
      {}, {Op(PutReq("a", "1")), Op(TxnReq({VersionIs("a", 0)}, {Op(PutReq("was_missing", "1"))},
                                           {Op(PutReq("was_there", "1"))}))}));
  ASSERT_TRUE(r.ok());
  const auto& nested = std::get<TxnResponse>(r->responses[1].response);
  EXPECT_TRUE(nested.succeeded);
  EXPECT_EQ(nested.header.revision, 0);  // etcd leaves nested headers empty
  EXPECT_EQ(Keys(MustRange(store, RangeReq("w", "x"))), (std::vector<std::string>{"was_missing"}));
  EXPECT_EQ(store.current_revision(), 2);
}

TEST(MvccTxn, TheSameKeyPutTwiceFailsDuplicateKey) {
  MvccStore store;
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(PutReq("a", "2"))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: duplicate key given in txn request");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kInvalidArgument);
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(MvccTxn, APutInsideARangeTheTxnDeletesFailsDuplicateKey) {
  MvccStore store;
  auto r = store.Txn(TxnReq({}, {Op(DeleteReq("a", "c")), Op(PutReq("b", "1"))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrDuplicateKey());
}

TEST(MvccTxn, ANestedPutOfAKeyPutByTheParentFailsDuplicateKey) {
  MvccStore store;
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(TxnReq({}, {Op(PutReq("a", "2"))}))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrDuplicateKey());
}

TEST(MvccTxn, AKeyPutInBothBranchesOfANestedTxnIsAllowed) {
  MvccStore store;
  auto r = store.Txn(TxnReq(
      {}, {Op(TxnReq({VersionIs("x", 0)}, {Op(PutReq("a", "then"))}, {Op(PutReq("a", "else"))}))}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(MustRange(store, RangeReq("a")).kvs[0].value, "then");
}

TEST(MvccTxn, AnEarlierSiblingsPutDeletedByALaterSiblingFailsDuplicateKey) {
  // etcd 3.4 accepts this and then panics while applying; we refuse it.
  MvccStore store;
  MustPut(store, "a", "0");
  auto r = store.Txn(
      TxnReq({}, {Op(TxnReq({}, {Op(PutReq("a", "1"))})), Op(TxnReq({}, {Op(DeleteReq("a"))}))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrDuplicateKey());
}

TEST(MvccTxn, TwoDeletesOfTheSameKeyAreAllowedAndDeleteOnce) {
  MvccStore store;
  MustPut(store, "a", "0");
  auto r = store.Txn(TxnReq({}, {Op(DeleteReq("a")), Op(DeleteReq("a", "b"))}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<DeleteRangeResponse>(r->responses[0].response).deleted, 1);
  EXPECT_EQ(std::get<DeleteRangeResponse>(r->responses[1].response).deleted, 0);
  EXPECT_EQ(store.current_revision(), 3);
}

TEST(MvccTxn, MoreOpsThanMaxTxnOpsFailsTooManyOps) {
  KvOptions options;
  options.max_txn_ops = 2;
  MvccStore store(options);
  auto r =
      store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(PutReq("b", "1")), Op(PutReq("c", "1"))}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: too many operations in txn request");
  EXPECT_TRUE(store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(PutReq("b", "1"))})).ok());
}

TEST(MvccTxn, ACheckFailingOnTheBranchThatRunsChangesNothing) {
  MvccStore store;
  PutRequest ignore = PutReq("missing", "");
  ignore.ignore_value = true;
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(ignore)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrKeyNotFound());
  EXPECT_EQ(store.current_revision(), 1);
  EXPECT_TRUE(MustRange(store, RangeReq("a")).kvs.empty());
}

TEST(MvccTxn, ACheckFailingOnTheBranchThatDoesNotRunIsIgnored) {
  MvccStore store;
  PutRequest ignore = PutReq("missing", "");
  ignore.ignore_value = true;
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1"))}, {Op(ignore)}));
  ASSERT_TRUE(r.ok());
}

TEST(MvccTxn, ARangeAtAFutureRevisionFailsTheWholeTxn) {
  MvccStore store;
  RangeRequest future = RangeReq("a");
  future.revision = 2;  // the txn's own revision is still the future
  auto r = store.Txn(TxnReq({}, {Op(PutReq("a", "1")), Op(future)}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrFutureRev());
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(MvccTxn, NestingDeeperThanMaxTxnDepthFails) {
  KvOptions options;
  options.max_txn_depth = 2;
  MvccStore store(options);
  TxnRequest txn = TxnReq({}, {Op(PutReq("a", "1"))});
  txn = TxnReq({}, {Op(std::move(txn))});
  txn = TxnReq({}, {Op(std::move(txn))});  // two levels below the top
  EXPECT_TRUE(store.Txn(txn).ok());
  txn = TxnReq({}, {Op(std::move(txn))});
  auto r = store.Txn(txn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrTxnTooDeep(2));
}

TEST(MvccTxn, EmptyCompareKeyFailsKeyNotProvided) {
  MvccStore store;
  auto r = store.Txn(TxnReq({VersionIs("", 0)}, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrEmptyKey());
}

}  // namespace
}  // namespace tri::rsm
