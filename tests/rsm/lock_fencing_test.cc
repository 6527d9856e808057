// The fencing pattern end to end on the real store, wired the way the state
// machine must wire it: every lock change's mirror writes go to
// MvccStore::WriteReserved in the same entry, and holders fence plain KV
// writes with the etcd Txn compare value("__trinity/locks/<name>") == token.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "rsm/lock_table.h"
#include "rsm/mvcc_store.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

class FencedLocks {
 public:
  LockReply Lock(const LockCommand& c) {
    auto reply = locks_.Apply(++index_, c, [this](std::int64_t l) { return leases_.count(l) > 0; });
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    if (!reply.ok()) return {};
    store_.WriteReserved(reply->fence_writes);
    return *reply;
  }
  void Grant(std::int64_t lease) { leases_.insert(lease); }
  void Revoke(std::int64_t lease) {
    leases_.erase(lease);
    store_.WriteReserved(locks_.OnLeasesRevoked({lease}, ++index_));
  }
  // A holder's write of `key`, fenced by its token for `lock`.
  bool FencedPut(const std::string& lock, std::uint64_t token, const std::string& key,
                 const std::string& value) {
    TxnRequest txn;
    Compare fence;
    fence.key = LockFenceKey(lock);
    fence.target = Compare::VALUE;
    fence.result = Compare::EQUAL;
    fence.value = std::to_string(token);
    txn.compare.push_back(fence);
    RequestOp put;
    put.request = testing::PutReq(key, value);
    txn.success.push_back(put);
    auto response = store_.Txn(txn);
    EXPECT_TRUE(response.ok()) << response.error().message;
    return response.ok() && response->succeeded;
  }
  std::map<std::string, std::string> FenceKeys() const {
    auto range = store_.Range(testing::RangeReq("__trinity/", "__trinity0"));
    EXPECT_TRUE(range.ok());
    std::map<std::string, std::string> keys;
    for (const KeyValue& kv : range->kvs)
      keys[kv.key] = kv.value;
    return keys;
  }
  std::map<std::string, std::string> Expected() const {
    std::map<std::string, std::string> keys;
    for (const ReservedWrite& w : locks_.FenceState())
      keys[w.key] = *w.value;
    return keys;
  }

  MvccStore& store() { return store_; }

 private:
  MvccStore store_;
  LockTable locks_;
  std::set<std::int64_t> leases_;
  std::uint64_t index_ = 0;
};

TEST(LockFencing, ZombieHolderWriteFailsAfterItsLeaseExpiredAndTheLockPassedOn) {
  FencedLocks f;
  f.Grant(1);
  const std::uint64_t a_token = f.Lock(LockAcquireCommand{"db", "a", 1}).token;
  EXPECT_TRUE(f.FencedPut("db", a_token, "accounts/alice", "100"));
  f.Lock(LockAcquireCommand{"db", "b", 0});
  f.Revoke(1);  // a's lease expired: b holds now
  const std::uint64_t b_token = f.Lock(LockCancelWaitCommand{"db", "b"}).token;  // answers held
  EXPECT_GT(b_token, a_token);
  EXPECT_FALSE(f.FencedPut("db", a_token, "accounts/alice", "zombie"));
  EXPECT_TRUE(f.FencedPut("db", b_token, "accounts/alice", "90"));
  auto read = f.store().Range(testing::RangeReq("accounts/alice"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->kvs.at(0).value, "90");
}

TEST(LockFencing, OldTokenFailsOnceTheLockIsFreeAndAgainAfterItIsRetaken) {
  FencedLocks f;
  const std::uint64_t first = f.Lock(LockAcquireCommand{"db", "a", 0}).token;
  f.Lock(LockReleaseCommand{"db", "a"});
  EXPECT_TRUE(f.FenceKeys().empty());
  EXPECT_FALSE(f.FencedPut("db", first, "k", "v"));
  const std::uint64_t second = f.Lock(LockAcquireCommand{"db", "a", 0}).token;
  EXPECT_GT(second, first);
  EXPECT_FALSE(f.FencedPut("db", first, "k", "v"));
  EXPECT_TRUE(f.FencedPut("db", second, "k", "v"));
}

TEST(LockFencing, MirrorWritesTakeOneRevisionPerHolderChangeAndNoneOtherwise) {
  FencedLocks f;
  const std::int64_t start = f.store().current_revision();
  f.Lock(LockAcquireCommand{"db", "a", 0});  // granted: +1
  f.Lock(LockAcquireCommand{"db", "a", 0});  // re-entrant: none
  f.Lock(LockAcquireCommand{"db", "b", 0});  // queued: none
  EXPECT_EQ(f.store().current_revision(), start + 1);
  f.Lock(LockReleaseCommand{"db", "a"});  // hold count 1 left: none
  f.Lock(LockReleaseCommand{"db", "a"});  // passed to b: +1
  f.Lock(LockReleaseCommand{"db", "b"});  // freed: +1
  EXPECT_EQ(f.store().current_revision(), start + 3);
}

TEST(LockFencing, StoreFenceKeysEqualTheTableAfterEveryKindOfChange) {
  FencedLocks f;
  f.Grant(1);
  f.Grant(2);
  f.Lock(LockAcquireCommand{"a", "o1", 1});
  f.Lock(LockAcquireCommand{"a", "o2", 2});
  f.Lock(LockAcquireCommand{"b", "o1", 1});
  f.Lock(LockAcquireCommand{"c", "o3", 0});
  EXPECT_EQ(f.FenceKeys(), f.Expected());
  f.Revoke(1);  // a passes to o2, b is freed: both in one revision
  EXPECT_EQ(f.FenceKeys(), f.Expected());
  EXPECT_EQ(f.FenceKeys().size(), 2u);
  f.Lock(LockReleaseCommand{"c", "o3"});
  EXPECT_EQ(f.FenceKeys(), f.Expected());
}

}  // namespace
}  // namespace tri::rsm
