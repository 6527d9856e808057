// One test per rule of the store's etcd v3 semantics (docs/rsm.md, "KV semantics"):
// revisions, versions, ranges, puts, deletes, compaction, HashKV. Txn rules are in
// mvcc_txn_test.cc, quota rules in quota_test.cc.

#include "rsm/mvcc_store.h"

#include <gtest/gtest.h>

#include <string>

#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::DeleteReq;
using testing::Keys;
using testing::MustPut;
using testing::MustRange;
using testing::PutReq;
using testing::RangeReq;

const std::string kZero(1, '\0');

TEST(KvErrorStatus, AnEtcdErrorBecomesAStatusWithTheSameCodeAndMessage) {
  EXPECT_EQ(ToStatus(ErrLeaseNotFound()).code(), StatusCode::kNotFound);
  EXPECT_EQ(ToStatus(ErrLeaseNotFound()).message(), "etcdserver: requested lease not found");
  EXPECT_EQ(ToStatus(ErrEmptyKey()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ToStatus(ErrCompacted()).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(ToStatus(ErrNoSpace()).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(ToStatus(KvError{GrpcCode::kDataLoss, "lost"}).code(), StatusCode::kInternal);
}

TEST(MvccStore, NewStoreStartsAtRevisionOneLikeEtcd) {
  MvccStore store;
  EXPECT_EQ(store.current_revision(), 1);
  EXPECT_EQ(store.compact_revision(), 0);
  EXPECT_EQ(MustRange(store, RangeReq("a")).header.revision, 1);
}

TEST(MvccStore, FirstPutSetsCreateModRevisionAndVersionOne) {
  MvccStore store;
  EXPECT_EQ(MustPut(store, "a", "1"), 2);
  const RangeResponse r = MustRange(store, RangeReq("a"));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_EQ(r.header.revision, 2);
}

TEST(MvccStore, SecondPutKeepsCreateRevisionAndIncrementsVersion) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "b", "x");
  MustPut(store, "a", "2");
  const RangeResponse r = MustRange(store, RangeReq("a"));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"a", 2, 4, 2, "2", 0}));
}

TEST(MvccStore, DeleteResetsVersionAndNextPutRecreatesTheKey) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "a", "2");
  auto deleted = store.DeleteRange(DeleteReq("a"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted, 1);
  EXPECT_EQ(deleted->header.revision, 4);
  EXPECT_TRUE(MustRange(store, RangeReq("a")).kvs.empty());
  MustPut(store, "a", "3");
  const RangeResponse r = MustRange(store, RangeReq("a"));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0], (KeyValue{"a", 5, 5, 1, "3", 0}));
}

TEST(MvccStore, DeleteRangeThatDeletesNothingDoesNotBumpRevision) {
  MvccStore store;
  MustPut(store, "a", "1");
  auto deleted = store.DeleteRange(DeleteReq("b", "c"));
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted, 0);
  EXPECT_EQ(deleted->header.revision, 2);
  EXPECT_EQ(store.current_revision(), 2);
}

TEST(MvccStore, DeleteRangeWithPrevKvReturnsDeletedPairsAndCount) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "b", "2");
  MustPut(store, "c", "3");
  DeleteRangeRequest request = DeleteReq("a", "c");
  request.prev_kv = true;
  auto deleted = store.DeleteRange(request);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->deleted, 2);
  ASSERT_EQ(deleted->prev_kvs.size(), 2u);
  EXPECT_EQ(deleted->prev_kvs[0], (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_EQ(deleted->prev_kvs[1], (KeyValue{"b", 3, 3, 1, "2", 0}));
  EXPECT_EQ(deleted->header.revision, 5);
  EXPECT_EQ(Keys(MustRange(store, RangeReq("a", kZero))), (std::vector<std::string>{"c"}));
}

TEST(MvccStore, RangeWithoutRangeEndReturnsOnlyThatKey) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "ab", "2");
  EXPECT_EQ(Keys(MustRange(store, RangeReq("a"))), (std::vector<std::string>{"a"}));
}

TEST(MvccStore, RangeWithRangeEndIsHalfOpen) {
  MvccStore store;
  for (const char* k : {"a", "b", "c", "d"})
    MustPut(store, k, "v");
  EXPECT_EQ(Keys(MustRange(store, RangeReq("b", "d"))), (std::vector<std::string>{"b", "c"}));
}

TEST(MvccStore, RangeEndOfZeroByteMeansEveryKeyFromKey) {
  MvccStore store;
  for (const char* k : {"a", "b", "c"})
    MustPut(store, k, "v");
  EXPECT_EQ(Keys(MustRange(store, RangeReq("b", kZero))), (std::vector<std::string>{"b", "c"}));
}

TEST(MvccStore, KeyZeroByteWithRangeEndZeroByteReturnsAllKeys) {
  MvccStore store;
  for (const char* k : {"\x01", "a", "\xff"})
    MustPut(store, k, "v");
  EXPECT_EQ(MustRange(store, RangeReq(kZero, kZero)).kvs.size(), 3u);
}

TEST(MvccStore, RangeEndNotAfterKeyMatchesNothing) {
  MvccStore store;
  MustPut(store, "b", "v");
  EXPECT_TRUE(MustRange(store, RangeReq("b", "b")).kvs.empty());
  EXPECT_TRUE(MustRange(store, RangeReq("b", "a")).kvs.empty());
}

TEST(MvccStore, PrefixRangeUsesThePrefixPlusOneAsRangeEnd) {
  MvccStore store;
  for (const char* k : {"fo", "foo", "foo/a", "foo/b", "fop"})
    MustPut(store, k, "v");
  EXPECT_EQ(Keys(MustRange(store, RangeReq("foo/", "foo0"))),
            (std::vector<std::string>{"foo/a", "foo/b"}));
}

TEST(MvccStore, LimitSetsMoreAndCountIsEveryMatchingKey) {
  MvccStore store;
  for (const char* k : {"a", "b", "c"})
    MustPut(store, k, "v");
  RangeRequest request = RangeReq("a", kZero);
  request.limit = 2;
  const RangeResponse r = MustRange(store, request);
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 3);
  request.limit = 3;
  EXPECT_FALSE(MustRange(store, request).more);
}

TEST(MvccStore, CountOnlyReturnsTheCountWithoutPairs) {
  MvccStore store;
  for (const char* k : {"a", "b", "c"})
    MustPut(store, k, "v");
  RangeRequest request = RangeReq("a", kZero);
  request.count_only = true;
  request.limit = 1;
  const RangeResponse r = MustRange(store, request);
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 3);
  EXPECT_FALSE(r.more);
}

TEST(MvccStore, KeysOnlyOmitsValues) {
  MvccStore store;
  MustPut(store, "a", "value");
  RangeRequest request = RangeReq("a");
  request.keys_only = true;
  const RangeResponse r = MustRange(store, request);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_TRUE(r.kvs[0].value.empty());
  EXPECT_EQ(r.kvs[0].version, 1);
}

TEST(MvccStore, RangeAtAnOldRevisionSeesTheValuesOfThen) {
  MvccStore store;
  MustPut(store, "a", "1");                             // 2
  MustPut(store, "a", "2");                             // 3
  ASSERT_TRUE(store.DeleteRange(DeleteReq("a")).ok());  // 4
  RangeRequest request = RangeReq("a");
  request.revision = 2;
  RangeResponse r = MustRange(store, request);
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].value, "1");
  EXPECT_EQ(r.header.revision, 4);  // the header always carries the current revision
  request.revision = 3;
  EXPECT_EQ(MustRange(store, request).kvs[0].value, "2");
  request.revision = 4;
  EXPECT_TRUE(MustRange(store, request).kvs.empty());
  request.revision = 1;
  EXPECT_TRUE(MustRange(store, request).kvs.empty());
}

TEST(MvccStore, RangeAtAFutureRevisionFails) {
  MvccStore store;
  MustPut(store, "a", "1");
  RangeRequest request = RangeReq("a");
  request.revision = 3;
  auto r = store.Range(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrFutureRev());
  EXPECT_EQ(r.error().message, "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kOutOfRange);
}

TEST(MvccStore, RangeWithEmptyKeyFailsKeyNotProvided) {
  MvccStore store;
  auto r = store.Range(RangeReq(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: key is not provided");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kInvalidArgument);
}

TEST(MvccStore, SortTargetWithoutOrderSortsAscending) {
  MvccStore store;
  MustPut(store, "a", "3");
  MustPut(store, "b", "1");
  MustPut(store, "c", "2");
  RangeRequest request = RangeReq("a", kZero);
  request.sort_target = RangeRequest::VALUE;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"b", "c", "a"}));
}

TEST(MvccStore, SortDescendingByModRevisionThenLimit) {
  MvccStore store;
  MustPut(store, "a", "v");
  MustPut(store, "b", "v");
  MustPut(store, "c", "v");
  MustPut(store, "a", "w");
  RangeRequest request = RangeReq("a", kZero);
  request.sort_target = RangeRequest::MOD;
  request.sort_order = RangeRequest::DESCEND;
  request.limit = 2;
  const RangeResponse r = MustRange(store, request);
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(r.more);
}

TEST(MvccStore, SortByKeyDescendingReversesKeyOrder) {
  MvccStore store;
  for (const char* k : {"a", "b", "c"})
    MustPut(store, k, "v");
  RangeRequest request = RangeReq("a", kZero);
  request.sort_order = RangeRequest::DESCEND;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"c", "b", "a"}));
}

TEST(MvccStore, ModAndCreateRevisionFiltersPruneButDoNotChangeCount) {
  MvccStore store;
  MustPut(store, "a", "v");  // 2
  MustPut(store, "b", "v");  // 3
  MustPut(store, "c", "v");  // 4
  MustPut(store, "a", "w");  // 5: a created 2, modified 5
  RangeRequest request = RangeReq("a", kZero);
  request.min_mod_revision = 4;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(MustRange(store, request).count, 3);
  request = RangeReq("a", kZero);
  request.max_mod_revision = 4;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"b", "c"}));
  request = RangeReq("a", kZero);
  request.min_create_revision = 3;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"b", "c"}));
  request = RangeReq("a", kZero);
  request.max_create_revision = 3;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"a", "b"}));
}

TEST(MvccStore, PutWithPrevKvReturnsThePreviousPair) {
  MvccStore store;
  MustPut(store, "a", "1");
  PutRequest request = PutReq("a", "2");
  request.prev_kv = true;
  auto r = store.Put(request);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->prev_kv.has_value());
  EXPECT_EQ(*r->prev_kv, (KeyValue{"a", 2, 2, 1, "1", 0}));
  request.key = "new";
  r = store.Put(request);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->prev_kv.has_value());
}

TEST(MvccStore, PutWithIgnoreValueKeepsTheValueAndBumpsVersion) {
  MvccStore store;
  MustPut(store, "a", "keep");
  PutRequest request = PutReq("a", "");
  request.ignore_value = true;
  ASSERT_TRUE(store.Put(request).ok());
  const RangeResponse r = MustRange(store, RangeReq("a"));
  EXPECT_EQ(r.kvs[0].value, "keep");
  EXPECT_EQ(r.kvs[0].version, 2);
  EXPECT_EQ(r.kvs[0].mod_revision, 3);
}

TEST(MvccStore, PutWithIgnoreValueAndAValueFailsValueProvided) {
  MvccStore store;
  MustPut(store, "a", "1");
  PutRequest request = PutReq("a", "x");
  request.ignore_value = true;
  auto r = store.Put(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrValueProvided());
  EXPECT_EQ(r.error().message, "etcdserver: value is provided");
  EXPECT_EQ(store.current_revision(), 2);
}

TEST(MvccStore, PutWithIgnoreValueOnAMissingKeyFailsKeyNotFound) {
  MvccStore store;
  PutRequest request = PutReq("a", "");
  request.ignore_value = true;
  auto r = store.Put(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: key not found");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kInvalidArgument);
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(MvccStore, PutWithIgnoreLeaseAndALeaseFailsLeaseProvided) {
  MvccStore store;
  PutRequest request = PutReq("a", "v");
  request.ignore_lease = true;
  request.lease = 7;
  auto r = store.Put(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: lease is provided");
}

TEST(MvccStore, PutWithALeaseFailsLeaseNotFoundSinceNoLeasesExist) {
  MvccStore store;
  PutRequest request = PutReq("a", "v");
  request.lease = 7;
  auto r = store.Put(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: requested lease not found");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kNotFound);
}

TEST(MvccStore, PutWithEmptyKeyFailsKeyNotProvided) {
  MvccStore store;
  auto r = store.Put(PutReq("", "v"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrEmptyKey());
}

TEST(MvccStore, KeyLongerThanMaxKeyBytesFailsRequestTooLarge) {
  KvOptions options;
  options.max_key_bytes = 4;
  MvccStore store(options);
  auto r = store.Put(PutReq("12345", "v"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: request is too large");
  EXPECT_TRUE(store.Put(PutReq("1234", "v")).ok());
  EXPECT_FALSE(store.Range(RangeReq("a", "123456")).ok());
}

TEST(MvccStore, CompactedHistoryIsGoneBelowAndIntactAtAndAbove) {
  MvccStore store;
  MustPut(store, "a", "1");  // 2
  MustPut(store, "a", "2");  // 3
  MustPut(store, "b", "1");  // 4
  ASSERT_TRUE(store.Compact(CompactionRequest{3, false}).ok());
  EXPECT_EQ(store.compact_revision(), 3);
  RangeRequest request = RangeReq("a", "c");
  request.revision = 3;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"a"}));
  request.revision = 4;
  EXPECT_EQ(Keys(MustRange(store, request)), (std::vector<std::string>{"a", "b"}));
}

TEST(MvccStore, RangeBelowTheCompactRevisionFailsCompacted) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "a", "2");
  ASSERT_TRUE(store.Compact(CompactionRequest{3, false}).ok());
  RangeRequest request = RangeReq("a");
  request.revision = 2;
  auto r = store.Range(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(r.error().grpc_code, GrpcCode::kOutOfRange);
}

TEST(MvccStore, CompactAtOrBeforeTheCompactRevisionFailsCompacted) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "a", "2");
  ASSERT_TRUE(store.Compact(CompactionRequest{2, false}).ok());
  EXPECT_EQ(store.Compact(CompactionRequest{2, false}).error(), ErrCompacted());
  EXPECT_EQ(store.Compact(CompactionRequest{1, false}).error(), ErrCompacted());
}

TEST(MvccStore, CompactPastTheCurrentRevisionFailsFutureRev) {
  MvccStore store;
  MustPut(store, "a", "1");
  EXPECT_EQ(store.Compact(CompactionRequest{3, false}).error(), ErrFutureRev());
  EXPECT_TRUE(store.Compact(CompactionRequest{2, false}).ok());
}

TEST(MvccStore, CompactForgetsKeysDeletedAtOrBeforeTheRevisionAndFreesTheirBytes) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "b", "1");
  ASSERT_TRUE(store.DeleteRange(DeleteReq("a")).ok());
  const std::uint64_t before = store.used_bytes();
  ASSERT_TRUE(store.Compact(CompactionRequest{store.current_revision(), false}).ok());
  EXPECT_EQ(store.key_count(), 1u);
  EXPECT_EQ(store.used_bytes(), before - 2 * (1 + kRevisionOverheadBytes) - 1);
  const RangeResponse r = MustRange(store, RangeReq("a", "c"));
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"b"}));
  EXPECT_EQ(r.kvs[0].version, 1);
}

TEST(MvccStore, CompactKeepsVersionAndCreateRevisionOfLiveKeys) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "a", "2");
  MustPut(store, "a", "3");
  ASSERT_TRUE(store.Compact(CompactionRequest{4, false}).ok());
  MustPut(store, "a", "4");
  EXPECT_EQ(MustRange(store, RangeReq("a")).kvs[0], (KeyValue{"a", 2, 5, 4, "4", 0}));
}

TEST(MvccStore, HashKVAtAnOldRevisionIgnoresLaterWrites) {
  MvccStore store;
  MustPut(store, "a", "1");
  auto at2 = store.HashKV(2);
  ASSERT_TRUE(at2.ok());
  MustPut(store, "b", "1");
  auto at2_again = store.HashKV(2);
  auto current = store.HashKV(0);
  ASSERT_TRUE(at2_again.ok() && current.ok());
  EXPECT_EQ(at2->hash, at2_again->hash);
  EXPECT_NE(at2->hash, current->hash);
  EXPECT_EQ(current->header.revision, 3);
}

TEST(MvccStore, HashKVIncludesTheCompactRevision) {
  MvccStore a;
  MvccStore b;
  for (MvccStore* s : {&a, &b}) {
    MustPut(*s, "a", "1");
    MustPut(*s, "b", "1");
  }
  ASSERT_TRUE(b.Compact(CompactionRequest{2, false}).ok());
  EXPECT_EQ(b.HashKV(0)->compact_revision, 2);
  EXPECT_NE(a.HashKV(0)->hash, b.HashKV(0)->hash);
}

TEST(MvccStore, HashKVAtOrBelowTheCompactRevisionOrInTheFutureFails) {
  MvccStore store;
  MustPut(store, "a", "1");
  MustPut(store, "a", "2");
  ASSERT_TRUE(store.Compact(CompactionRequest{2, false}).ok());
  EXPECT_EQ(store.HashKV(2).error(), ErrCompacted());
  EXPECT_EQ(store.HashKV(4).error(), ErrFutureRev());
  EXPECT_TRUE(store.HashKV(3).ok());
}

}  // namespace
}  // namespace tri::rsm
