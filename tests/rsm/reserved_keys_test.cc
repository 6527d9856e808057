// The reserved "__trinity/" prefix: client puts of its keys and deletes aimed
// into it are refused (also inside txns; reads stay allowed), wider deletes
// leave its keys alone, and the state machine's own writes go through
// MvccStore::WriteReserved in one revision.
#include "rsm/reserved_keys.h"

#include <gtest/gtest.h>

#include "rsm/kv_validate.h"
#include "rsm/mvcc_store.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::DeleteReq;
using testing::PutReq;
using testing::RangeReq;

const std::string kAll(1, '\0');

TEST(ReservedKeys, ClientPutOfAReservedKeyIsRefusedNamingKeyAndPrefix) {
  MvccStore store;
  auto put = store.Put(PutReq("__trinity/locks/db", "1"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.error().grpc_code, GrpcCode::kInvalidArgument);
  EXPECT_EQ(put.error().message,
            "rsm: key \"__trinity/locks/db\" is under the reserved prefix \"__trinity/\", which "
            "only Trinity writes (reading them is allowed)");
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(ReservedKeys, ClientDeletesIntoThePrefixAreRefusedAndWiderOnesLeaveReservedKeysAlone) {
  MvccStore store;
  store.WriteReserved({{"__trinity/locks/db", "2"}});
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());
  ASSERT_TRUE(store.Put(PutReq("z", "1")).ok());
  auto aimed = store.DeleteRange(DeleteReq("__trinity/locks/db"));
  ASSERT_FALSE(aimed.ok());
  EXPECT_EQ(aimed.error().message,
            "rsm: key \"__trinity/locks/db\" is under the reserved prefix \"__trinity/\", which "
            "only Trinity writes (reading them is allowed)");
  EXPECT_FALSE(store.DeleteRange(DeleteReq("__trinity/", "__trinity0")).ok());

  // etcdctl del "" --from-key (key "\0" to the end): every client key goes,
  // the fence key stays.
  DeleteRangeRequest everything = DeleteReq(kAll, kAll);
  everything.prev_kv = true;
  auto wide = store.DeleteRange(everything);
  ASSERT_TRUE(wide.ok()) << wide.error().message;
  EXPECT_EQ(wide->deleted, 2);
  ASSERT_EQ(wide->prev_kvs.size(), 2u);
  EXPECT_EQ(wide->prev_kvs[0].key, "a");
  EXPECT_EQ(wide->prev_kvs[1].key, "z");
  auto left = store.Range(RangeReq(kAll, kAll));
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->kvs.size(), 1u);
  EXPECT_EQ(left->kvs[0].key, "__trinity/locks/db");
}

TEST(ReservedKeys, TxnWritesOfReservedKeysAreRefusedAndComparesAllowed) {
  TxnRequest txn;
  RequestOp op;
  op.request = PutReq("__trinity/locks/db", "9");
  txn.failure.push_back(op);
  EXPECT_TRUE(ValidateTxn(txn, {}).has_value());
  TxnRequest nested;
  RequestOp inner;
  inner.request = DeleteReq("__trinity/", "__trinity0");
  nested.success.push_back(inner);
  RequestOp outer;
  outer.request = nested;
  TxnRequest top;
  top.success.push_back(outer);
  EXPECT_TRUE(ValidateTxn(top, {}).has_value());

  MvccStore store;
  store.WriteReserved({{"__trinity/locks/db", "7"}});
  TxnRequest fenced;
  Compare c;
  c.key = "__trinity/locks/db";
  c.target = Compare::VALUE;
  c.result = Compare::EQUAL;
  c.value = "7";
  fenced.compare.push_back(c);
  RequestOp write;
  write.request = PutReq("data", "v");
  fenced.success.push_back(write);
  auto applied = store.Txn(fenced);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(applied->succeeded);
  auto read = store.Range(RangeReq("__trinity/", "__trinity0"));
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "7");
}

TEST(ReservedKeys, WriteReservedMakesOneRevisionAndSkipsMissingDeletes) {
  MvccStore store;
  store.WriteReserved({{"__trinity/locks/a", "2"}, {"__trinity/locks/b", "2"}});
  EXPECT_EQ(store.current_revision(), 2);
  store.WriteReserved({{"__trinity/locks/a", std::nullopt}, {"__trinity/locks/b", "5"}});
  EXPECT_EQ(store.current_revision(), 3);
  store.WriteReserved({{"__trinity/locks/zz", std::nullopt}});
  EXPECT_EQ(store.current_revision(), 3);
  auto read = store.Range(RangeReq("__trinity/", "__trinity0"));
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].key, "__trinity/locks/b");
  EXPECT_EQ(read->kvs[0].mod_revision, 3);
}

TEST(ReservedKeys, WriteReservedIsNotRefusedByTheQuotaAlarm) {
  KvOptions options;
  options.quota_bytes = 100;
  MvccStore store(options);
  EXPECT_FALSE(store.Put(PutReq("k", std::string(200, 'v'))).ok());
  ASSERT_TRUE(store.nospace_alarm());
  store.WriteReserved({{"__trinity/locks/a", "3"}});
  EXPECT_EQ(store.current_revision(), 2);
}

}  // namespace
}  // namespace tri::rsm
