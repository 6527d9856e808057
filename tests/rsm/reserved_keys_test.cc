// The reserved "__trinity/" prefix: client writes that could touch it are
// refused (puts, deletes, also inside txns; reads stay allowed), and the state
// machine's own writes go through MvccStore::WriteReserved in one revision.
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

TEST(ReservedKeys, RangesTouchTheReservedPrefixExactlyWhenTheyOverlapIt) {
  EXPECT_TRUE(RangeTouchesReserved("__trinity/locks/a", ""));
  EXPECT_FALSE(RangeTouchesReserved("__trinity", ""));
  EXPECT_FALSE(RangeTouchesReserved("a", ""));
  EXPECT_TRUE(RangeTouchesReserved("", kAll));
  EXPECT_TRUE(RangeTouchesReserved("__", "__u"));
  EXPECT_TRUE(RangeTouchesReserved("__trinity/", "__trinity0"));
  EXPECT_FALSE(RangeTouchesReserved("__trinity0", kAll));
  EXPECT_FALSE(RangeTouchesReserved("a", kAll));
  EXPECT_FALSE(RangeTouchesReserved("", "__trinity/"));  // ends right before the prefix
  EXPECT_FALSE(RangeTouchesReserved("d/", "d0"));
  EXPECT_FALSE(RangeTouchesReserved("__z", "__a"));  // empty interval
}

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

TEST(ReservedKeys, ClientDeletesThatCouldTouchAReservedKeyAreRefused) {
  MvccStore store;
  auto whole = store.DeleteRange(DeleteReq("0", kAll));
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().message,
            "rsm: the range from key \"0\" to the end includes keys under the reserved prefix "
            "\"__trinity/\", which only Trinity writes (reading them is allowed)");
  EXPECT_FALSE(store.DeleteRange(DeleteReq("__trinity/locks/x")).ok());
  EXPECT_FALSE(store.DeleteRange(DeleteReq("_", "a")).ok());
  EXPECT_TRUE(store.DeleteRange(DeleteReq("d/", "d0")).ok());
  EXPECT_TRUE(store.DeleteRange(DeleteReq("a", kAll)).ok());
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
