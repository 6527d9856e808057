// Native fenced locks: one test per rule of rsm/lock_table.h, the command codec,
// snapshots that refuse every broken invariant, and RapidCheck properties over
// random command sequences (tokens strictly increase per lock, at most one
// holder, FIFO grant order, mirror writes equal the table, snapshot round trip).
#include "rsm/lock_table.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "rsm/lock_codec.h"

namespace tri::rsm {
namespace {

using Outcome = LockReply::Outcome;

// A table, the log index, the live leases, and the KV mirror kept from the
// fence writes exactly as the state machine would keep it.
class LockHarness {
 public:
  explicit LockHarness(LockOptions options = {}) : table_(options) {}

  KvOr<LockReply> Run(const LockCommand& c) {
    auto reply = table_.Apply(++index_, c, [this](std::int64_t l) { return leases_.count(l) > 0; });
    if (reply.ok()) Mirror(reply->fence_writes);
    return reply;
  }
  LockReply Ok(const LockCommand& c) {
    auto reply = Run(c);
    EXPECT_TRUE(reply.ok()) << reply.error().message;
    return reply.ok() ? *reply : LockReply{};
  }
  LockReply Acquire(const std::string& name, const std::string& owner, std::int64_t lease = 0) {
    return Ok(LockAcquireCommand{name, owner, lease});
  }
  LockReply Release(const std::string& name, const std::string& owner) {
    return Ok(LockReleaseCommand{name, owner});
  }
  void Revoke(std::int64_t lease) { RevokeTogether({lease}); }
  // Several leases in one entry (one expiry batch).
  std::vector<ReservedWrite> RevokeTogether(const std::vector<std::int64_t>& leases) {
    for (std::int64_t lease : leases)
      leases_.erase(lease);
    std::vector<ReservedWrite> writes = table_.OnLeasesRevoked(leases, ++index_);
    Mirror(writes);
    return writes;
  }
  void Grant(std::int64_t lease) { leases_.insert(lease); }

  // The mirror equals what the table says the store must hold.
  bool MirrorMatches() const {
    std::map<std::string, std::string> expected;
    for (const ReservedWrite& w : table_.FenceState())
      expected[w.key] = *w.value;
    return expected == mirror_;
  }

  LockTable& table() { return table_; }
  std::uint64_t index() const { return index_; }
  const std::map<std::string, std::string>& mirror() const { return mirror_; }

 private:
  void Mirror(const std::vector<ReservedWrite>& writes) {
    for (const ReservedWrite& w : writes) {
      if (w.value) {
        mirror_[w.key] = *w.value;
      } else {
        mirror_.erase(w.key);
      }
    }
  }

  LockTable table_;
  std::uint64_t index_ = 0;
  std::set<std::int64_t> leases_;
  std::map<std::string, std::string> mirror_;
};

TEST(LockTable, FreeLockIsGrantedWithTheEntryIndexAsToken) {
  LockHarness h;
  h.Acquire("x", "a");  // index 1, on another lock first
  LockReply r = h.Acquire("db", "b");
  EXPECT_EQ(r.outcome, Outcome::kGranted);
  EXPECT_EQ(r.token, 2u);
  EXPECT_EQ(r.hold_count, 1u);
  ASSERT_EQ(r.fence_writes.size(), 1u);
  EXPECT_EQ(r.fence_writes[0], (ReservedWrite{"__trinity/locks/db", "2"}));
}

TEST(LockTable, SameOwnerReentersWithSameTokenAndNoMirrorWrite) {
  LockHarness h;
  const std::uint64_t token = h.Acquire("db", "a").token;
  LockReply again = h.Acquire("db", "a");
  EXPECT_EQ(again.outcome, Outcome::kGranted);
  EXPECT_EQ(again.token, token);
  EXPECT_EQ(again.hold_count, 2u);
  EXPECT_TRUE(again.fence_writes.empty());
}

TEST(LockTable, OtherOwnersQueueInArrivalOrderWithTheirPosition) {
  LockHarness h;
  h.Acquire("db", "a");
  LockReply b = h.Acquire("db", "b");
  LockReply c = h.Acquire("db", "c");
  EXPECT_EQ(b.outcome, Outcome::kQueued);
  EXPECT_EQ(b.position, 1u);
  EXPECT_EQ(c.position, 2u);
  EXPECT_TRUE(b.fence_writes.empty());
  EXPECT_EQ(h.table().QueuePosition("db", "c"), 2u);
}

TEST(LockTable, QueuedOwnerAskingAgainIsNotQueuedTwice) {
  LockHarness h;
  h.Acquire("db", "a");
  h.Acquire("db", "b");
  h.Acquire("db", "c");
  LockReply b_again = h.Acquire("db", "b");
  EXPECT_EQ(b_again.outcome, Outcome::kQueued);
  EXPECT_EQ(b_again.position, 1u);
  EXPECT_EQ(h.table().Find("db")->waiters.size(), 2u);
}

TEST(LockTable, ReleaseAtZeroPassesToFirstWaiterWithThisEntrysIndex) {
  LockHarness h;
  h.Acquire("db", "a");
  h.Acquire("db", "a");
  h.Acquire("db", "b");
  h.Acquire("db", "c");
  LockReply first = h.Release("db", "a");
  EXPECT_EQ(first.hold_count, 1u);
  EXPECT_TRUE(first.fence_writes.empty());
  LockReply last = h.Release("db", "a");  // index 6
  EXPECT_EQ(last.outcome, Outcome::kReleased);
  EXPECT_EQ(last.hold_count, 0u);
  const LockEntry* lock = h.table().Find("db");
  ASSERT_NE(lock, nullptr);
  EXPECT_EQ(lock->holder, (LockHolder{"b", 6, 1, 0}));
  ASSERT_EQ(lock->waiters.size(), 1u);
  EXPECT_EQ(lock->waiters[0].owner, "c");
  EXPECT_EQ(last.fence_writes, (std::vector<ReservedWrite>{{"__trinity/locks/db", "6"}}));
}

TEST(LockTable, ReleaseOfLastHoldWithoutWaitersFreesAndRemovesTheLock) {
  LockHarness h;
  h.Acquire("db", "a");
  LockReply r = h.Release("db", "a");
  EXPECT_EQ(h.table().Find("db"), nullptr);
  EXPECT_TRUE(h.table().locks().empty());
  EXPECT_EQ(r.fence_writes, (std::vector<ReservedWrite>{{"__trinity/locks/db", std::nullopt}}));
}

TEST(LockTable, ReleaseErrorsNameTheLockAndTheOwner) {
  LockHarness h;
  auto free_lock = h.Run(LockReleaseCommand{"db", "a"});
  ASSERT_FALSE(free_lock.ok());
  EXPECT_EQ(free_lock.error().grpc_code, GrpcCode::kFailedPrecondition);
  EXPECT_EQ(free_lock.error().message, "lock \"db\": not held, so owner \"a\" cannot release it");
  h.Acquire("db", "a");
  h.Acquire("db", "b");
  auto other = h.Run(LockReleaseCommand{"db", "b"});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message, "lock \"db\": held by \"a\", not by \"b\"");
  EXPECT_EQ(h.table().Find("db")->holder.hold_count, 1u);
}

TEST(LockTable, CancelWaitRemovesTheWaiterAndLaterOnesMoveUp) {
  LockHarness h;
  h.Acquire("db", "a");
  h.Acquire("db", "b");
  h.Acquire("db", "c");
  LockReply r = h.Ok(LockCancelWaitCommand{"db", "b"});
  EXPECT_EQ(r.outcome, Outcome::kCancelled);
  EXPECT_EQ(h.table().QueuePosition("db", "b"), std::nullopt);
  EXPECT_EQ(h.table().QueuePosition("db", "c"), 1u);
}

TEST(LockTable, CancelWaitAfterTheGrantAnswersHeldWithTheToken) {
  LockHarness h;
  h.Acquire("db", "a");
  h.Acquire("db", "b");
  h.Release("db", "a");  // index 3: b holds
  LockReply r = h.Ok(LockCancelWaitCommand{"db", "b"});
  EXPECT_EQ(r.outcome, Outcome::kHeld);
  EXPECT_EQ(r.token, 3u);
  EXPECT_EQ(r.hold_count, 1u);
  EXPECT_EQ(h.table().Find("db")->holder.owner, "b");
}

TEST(LockTable, CancelWaitOfAStrangerIsAnError) {
  LockHarness h;
  h.Acquire("db", "a");
  auto r = h.Run(LockCancelWaitCommand{"db", "z"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "lock \"db\": owner \"z\" neither waits for it nor holds it");
}

TEST(LockTable, AcquireUnderAMissingLeaseIsEtcdsLeaseNotFound) {
  LockHarness h;
  auto r = h.Run(LockAcquireCommand{"db", "a", 7});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ErrLeaseNotFound());
  EXPECT_TRUE(h.table().locks().empty());
}

TEST(LockTable, ReentryOrRequeueUnderAnotherLeaseIsRefused) {
  LockHarness h;
  h.Grant(1);
  h.Grant(2);
  h.Acquire("db", "a", 1);
  h.Acquire("db", "b", 1);
  auto holder = h.Run(LockAcquireCommand{"db", "a", 2});
  ASSERT_FALSE(holder.ok());
  EXPECT_EQ(holder.error().message, "lock \"db\": owner \"a\" holds it under lease 1, not 2");
  auto waiter = h.Run(LockAcquireCommand{"db", "b", 2});
  ASSERT_FALSE(waiter.ok());
  EXPECT_EQ(waiter.error().message, "lock \"db\": owner \"b\" waits under lease 1, not 2");
}

TEST(LockTable, RevokedLeaseEndsEveryHoldAndDropsItsWaiters) {
  LockHarness h;
  h.Grant(1);
  h.Grant(2);
  h.Acquire("db", "a", 1);
  h.Acquire("db", "a", 1);  // hold count 2: still ends at once
  h.Acquire("db", "b", 1);  // waiter under the same lease: dropped
  h.Acquire("db", "c", 2);
  h.Acquire("q", "a", 1);  // another lock, no waiters: freed
  h.Acquire("r", "x", 2);
  h.Acquire("r", "a", 1);  // a waiter elsewhere: dropped
  h.Revoke(1);             // index 8
  const LockEntry* db = h.table().Find("db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->holder, (LockHolder{"c", 8, 1, 2}));
  EXPECT_TRUE(db->waiters.empty());
  EXPECT_EQ(h.table().Find("q"), nullptr);
  EXPECT_TRUE(h.table().Find("r")->waiters.empty());
  EXPECT_EQ(h.mirror(), (std::map<std::string, std::string>{{"__trinity/locks/db", "8"},
                                                            {"__trinity/locks/r", "6"}}));
  const auto changed = h.table().TakeChanged();
  EXPECT_EQ(std::set<std::string>(changed.begin(), changed.end()),
            (std::set<std::string>{"db", "q", "r"}));
}

TEST(LockTable, LeasesRevokedInOneEntryHandOverOncePastEveryWaiterUnderThem) {
  LockHarness h;
  for (std::int64_t lease = 1; lease <= 4; ++lease)
    h.Grant(lease);
  h.Acquire("db", "a", 1);
  h.Acquire("db", "b", 2);  // revoked with a's lease: never holds
  h.Acquire("db", "c", 3);
  h.Acquire("free", "d", 2);
  h.Acquire("free", "e", 4);                     // waiter under 4: stays, takes over
  const auto writes = h.RevokeTogether({1, 2});  // index 6
  EXPECT_EQ(writes, (std::vector<ReservedWrite>{{"__trinity/locks/db", "6"},
                                                {"__trinity/locks/free", "6"}}));
  EXPECT_EQ(h.table().Find("db")->holder, (LockHolder{"c", 6, 1, 3}));
  EXPECT_EQ(h.table().Find("free")->holder, (LockHolder{"e", 6, 1, 4}));
  EXPECT_TRUE(h.RevokeTogether({}).empty());
}

TEST(LockTable, ZombieHolderFailsTheFenceCompareAfterHandOver) {
  // The fencing pattern: the old holder compares the mirror with its token.
  LockHarness h;
  h.Grant(1);
  const std::uint64_t old_token = h.Acquire("db", "a", 1).token;
  h.Acquire("db", "b");
  h.Revoke(1);  // a's lease expired: b holds now
  const auto& mirror = h.mirror();
  ASSERT_EQ(mirror.count("__trinity/locks/db"), 1u);
  EXPECT_NE(mirror.at("__trinity/locks/db"), std::to_string(old_token));
  EXPECT_EQ(mirror.at("__trinity/locks/db"), std::to_string(h.table().Find("db")->holder.token));
}

TEST(LockTable, BoundsGiveClearErrorsAndChangeNothing) {
  LockOptions options;
  options.max_locks = 1;
  options.max_waiters_per_lock = 1;
  options.max_name_bytes = 4;
  options.max_owner_bytes = 3;
  options.max_hold_count = 2;
  LockHarness h(options);
  h.Acquire("a", "o");
  auto locks = h.Run(LockAcquireCommand{"b", "o", 0});
  ASSERT_FALSE(locks.ok());
  EXPECT_EQ(locks.error().grpc_code, GrpcCode::kResourceExhausted);
  EXPECT_EQ(locks.error().message, "lock \"b\": too many locks held (bound 1)");
  h.Acquire("a", "p");
  auto waiters = h.Run(LockAcquireCommand{"a", "q", 0});
  ASSERT_FALSE(waiters.ok());
  EXPECT_EQ(waiters.error().message,
            "lock \"a\": too many waiters (bound 1); owner \"q\" not queued");
  h.Acquire("a", "o");
  auto holds = h.Run(LockAcquireCommand{"a", "o", 0});
  ASSERT_FALSE(holds.ok());
  EXPECT_EQ(holds.error().message, "lock \"a\": owner \"o\" holds it 2 times (bound 2)");
  auto name = h.Run(LockAcquireCommand{"abcde", "o", 0});
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error().message, "lock \"abcde\": name is 5 bytes, above the bound of 4");
  auto owner = h.Run(LockAcquireCommand{"a", "abcd", 0});
  ASSERT_FALSE(owner.ok());
  EXPECT_EQ(owner.error().message, "lock \"a\": owner \"abcd\" is 4 bytes, above the bound of 3");
  EXPECT_FALSE(h.Run(LockAcquireCommand{"", "o", 0}).ok());
  EXPECT_FALSE(h.Run(LockAcquireCommand{"a", "", 0}).ok());
  EXPECT_EQ(h.table().locks().size(), 1u);
  EXPECT_EQ(h.table().Find("a")->waiters.size(), 1u);
}

TEST(LockTable, TakeChangedNamesEachChangedLockOnceAndThenNothing) {
  LockHarness h;
  h.Acquire("x", "a");
  h.Acquire("x", "b");
  h.Acquire("y", "a");
  h.Acquire("x", "a");  // re-entrant: no change for waiters
  EXPECT_EQ(h.table().TakeChanged(), (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(h.table().TakeChanged().empty());
  h.Acquire("y", "a");
  EXPECT_TRUE(h.table().TakeChanged().empty());
}

TEST(LockCodec, EveryCommandRoundTrips) {
  for (const LockCommand& c :
       std::vector<LockCommand>{LockAcquireCommand{"db", "a", 7}, LockAcquireCommand{"n", "o", -1},
                                LockReleaseCommand{"db", "a"}, LockCancelWaitCommand{"db", "b"}}) {
    auto decoded = DecodeLockCommand(EncodeLockCommand(c));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, c);
  }
}

TEST(LockCodec, BadBytesAreRefusedWithTheFieldAndOffset) {
  EXPECT_EQ(DecodeLockCommand("").status().message(),
            "lock command: operation truncated at byte 0");
  EXPECT_EQ(DecodeLockCommand("\x09").status().message(),
            "lock command: unknown operation 9 at byte 1");
  std::string acquire = EncodeLockCommand(LockAcquireCommand{"db", "a", 1});
  EXPECT_EQ(DecodeLockCommand(acquire.substr(0, acquire.size() - 1)).status().message(),
            "lock command: lease id truncated at byte 6");
  EXPECT_EQ(DecodeLockCommand(acquire + "x").status().message(),
            "lock command: 1 trailing bytes at byte 7");
  EXPECT_EQ(DecodeLockCommand(EncodeLockCommand(LockReleaseCommand{"abc", "a"}),
                              LockDecodeLimits{.max_field_bytes = 2})
                .status()
                .message(),
            "lock command: lock name truncated or longer than 2 bytes at byte 2");
}

// --- snapshots ----------------------------------------------------------------

std::string Snapshot(const LockTable& table) {
  std::string out;
  table.EncodeTo(out);
  return out;
}

// Snapshot bytes built by hand, for the invariants EncodeTo cannot break.
struct RawLock {
  std::string name;
  std::string owner;
  std::uint64_t token;
  std::uint64_t hold_count;
  std::vector<std::string> waiters;
};
std::string RawSnapshot(const std::vector<RawLock>& locks) {
  std::string out;
  coding::PutFixed8(out, 1);
  coding::PutVarint64(out, locks.size());
  for (const RawLock& l : locks) {
    coding::PutLengthPrefixed(out, l.name);
    coding::PutLengthPrefixed(out, l.owner);
    coding::PutVarint64(out, l.token);
    coding::PutVarint64(out, l.hold_count);
    coding::PutVarint64(out, 0);
    coding::PutVarint64(out, l.waiters.size());
    for (const std::string& w : l.waiters) {
      coding::PutLengthPrefixed(out, w);
      coding::PutVarint64(out, 0);
    }
  }
  return out;
}

Status Decode(const std::string& bytes, std::uint64_t applied_index = 100,
              LockOptions options = {}) {
  coding::Decoder in(bytes);
  auto table = LockTable::DecodeFrom(in, options, applied_index);
  return table.ok() ? Status::Ok() : table.status();
}

TEST(LockSnapshot, RoundTripKeepsHoldersTokensAndQueues) {
  LockHarness h;
  h.Grant(5);
  h.Acquire("db", "a", 5);
  h.Acquire("db", "a", 5);
  h.Acquire("db", "b");
  h.Acquire("db", "c", 5);
  h.Acquire("z", "q");
  const std::string bytes = Snapshot(h.table());
  coding::Decoder in(bytes);
  auto restored = LockTable::DecodeFrom(in, {}, h.index());
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(in.done());
  EXPECT_EQ(restored->locks(), h.table().locks());
  EXPECT_EQ(Snapshot(*restored), bytes);
}

TEST(LockSnapshot, EachBrokenInvariantIsRefusedByName) {
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 0, 1, {}}})).message(),
            "lock table snapshot: lock \"a\": token 0 is not in 1..applied index 100 at byte 10");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 101, 1, {}}})).message(),
            "lock table snapshot: lock \"a\": token 101 is not in 1..applied index 100 at byte 10");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 5, 0, {}}})).message(),
            "lock table snapshot: lock \"a\": hold count 0 not in 1..1000000 at byte 10");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 5, 1, {"p", "p"}}})).message(),
            "lock table snapshot: lock \"a\": owner \"p\" queued twice or both holds and waits at "
            "byte 16");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 5, 1, {"o"}}})).message(),
            "lock table snapshot: lock \"a\": owner \"o\" queued twice or both holds and waits at "
            "byte 13");
  EXPECT_EQ(Decode(RawSnapshot({{"b", "o", 5, 1, {}}, {"a", "o", 6, 1, {}}})).message(),
            "lock table snapshot: lock \"a\": not after \"b\" (names unsorted) at byte 12");
  EXPECT_EQ(Decode(RawSnapshot({{"", "o", 5, 1, {}}})).message(),
            "lock table snapshot: lock 0: name truncated, empty or above 256 bytes at byte 3");
  EXPECT_EQ(
      Decode(RawSnapshot({{"a", "", 5, 1, {}}})).message(),
      "lock table snapshot: lock \"a\": holder truncated, empty or above 256 bytes at byte 5");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 5, 1, {}}, {"b", "o", 6, 1, {}}}), 100,
                   LockOptions{.max_locks = 1})
                .message(),
            "lock table snapshot: 2 locks, above the bound of 1 at byte 2");
  EXPECT_EQ(Decode(RawSnapshot({{"a", "o", 5, 1, {"p", "q"}}}), 100,
                   LockOptions{.max_waiters_per_lock = 1})
                .message(),
            "lock table snapshot: lock \"a\": 2 waiters, above the bound of 1 at byte 10");
  EXPECT_EQ(Decode(std::string("\x02", 1)).message(),
            "lock table snapshot: unknown version 2 at byte 1");
  const std::string good = RawSnapshot({{"a", "o", 5, 1, {"p"}}});
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(Decode(good.substr(0, n)).ok()) << "truncated to " << n;
  }
  EXPECT_TRUE(Decode(good).ok());
}

// --- properties ---------------------------------------------------------------

// Random commands on few names, owners and leases, so that contention,
// re-entry, hand-over and revocation all happen.
RC_GTEST_PROP(LockTableProps, TokensIncreaseOneHolderFifoGrantsMirrorAndSnapshotHold, ()) {
  const std::vector<std::string> names = {"a", "b", "c"};
  const std::vector<std::string> owners = {"o1", "o2", "o3", "o4"};
  LockHarness h(LockOptions{.max_locks = 2, .max_waiters_per_lock = 2});
  for (std::int64_t lease = 1; lease <= 3; ++lease)
    h.Grant(lease);
  std::map<std::string, std::uint64_t> last_token;
  const int steps = *rc::gen::inRange(1, 120);
  for (int step = 0; step < steps; ++step) {
    const std::string name = *rc::gen::elementOf(names);
    const std::string owner = *rc::gen::elementOf(owners);
    const std::int64_t lease = *rc::gen::inRange<std::int64_t>(0, 4);
    const LockEntry* before_ptr = h.table().Find(name);
    const std::optional<LockEntry> before =
        before_ptr ? std::optional<LockEntry>(*before_ptr) : std::nullopt;
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
      case 1: {
        auto r = h.Run(LockAcquireCommand{name, owner, lease});
        if (!r.ok()) {
          const LockEntry* after = h.table().Find(name);
          RC_ASSERT((after == nullptr) == !before.has_value());
          if (after != nullptr) RC_ASSERT(*after == *before);
        }
        break;
      }
      case 2: {
        auto r = h.Run(LockReleaseCommand{name, owner});
        // FIFO: a hand-over goes to the waiter that was first in line.
        if (r.ok() && r->hold_count == 0 && !before->waiters.empty()) {
          RC_ASSERT(h.table().Find(name)->holder.owner == before->waiters.front().owner);
        }
        break;
      }
      case 3:
        (void)h.Run(LockCancelWaitCommand{name, owner});
        break;
      default: {
        // One lease, or several in one entry (an expiry batch).
        std::vector<std::int64_t> revoked;
        for (std::int64_t l = 1; l <= 3; ++l) {
          if (l == lease || *rc::gen::inRange(0, 4) == 0) revoked.push_back(l);
        }
        const auto writes = h.RevokeTogether(revoked);
        std::set<std::string> keys;
        for (const ReservedWrite& w : writes)
          RC_ASSERT(keys.insert(w.key).second);
        for (std::int64_t l : revoked)
          h.Grant(l);  // fresh leases with the same ids
        break;
      }
    }
    RC_ASSERT(h.MirrorMatches());
    for (const auto& [lock_name, lock] : h.table().locks()) {
      // One holder (the map has one per name); it never waits too.
      for (const LockWaiter& w : lock.waiters)
        RC_ASSERT(w.owner != lock.holder.owner);
      // Tokens: a new holder's token is above every earlier one of the lock.
      auto [it, inserted] = last_token.try_emplace(lock_name, lock.holder.token);
      if (!inserted) {
        RC_ASSERT(lock.holder.token >= it->second);
        it->second = lock.holder.token;
      }
      RC_ASSERT(lock.holder.token <= h.index());
    }
  }
  const std::string bytes = Snapshot(h.table());
  coding::Decoder in(bytes);
  auto restored = LockTable::DecodeFrom(in, h.table().options(), h.index());
  RC_ASSERT(restored.ok());
  RC_ASSERT(restored->locks() == h.table().locks());
}

// A grant after any history gets a token above every token the lock had.
RC_GTEST_PROP(LockTableProps, EachNewHolderHasAStrictlyLargerToken, ()) {
  LockHarness h;
  h.Grant(1);
  std::vector<std::uint64_t> tokens;
  std::string holder;
  const int rounds = *rc::gen::inRange(1, 40);
  for (int i = 0; i < rounds; ++i) {
    const std::string owner = "o" + std::to_string(*rc::gen::inRange(0, 3));
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        (void)h.Run(LockAcquireCommand{"x", owner, 1});
        break;
      case 1:
        (void)h.Run(LockReleaseCommand{"x", owner});
        break;
      default:
        h.Revoke(1);
        h.Grant(1);
        break;
    }
    const LockEntry* lock = h.table().Find("x");
    const std::string now =
        lock ? lock->holder.owner + "@" + std::to_string(lock->holder.token) : "";
    if (lock && now != holder) tokens.push_back(lock->holder.token);
    holder = now;
  }
  for (std::size_t i = 1; i < tokens.size(); ++i)
    RC_ASSERT(tokens[i] > tokens[i - 1]);
}

}  // namespace
}  // namespace tri::rsm
