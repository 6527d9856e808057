// Watch events of the store: one per key written, in (revision, sub) order,
// recorded live by every write path and answered again from history.

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "random_requests.h"
#include "rsm/command.h"
#include "rsm/kv_codec.h"
#include "rsm/mvcc_store.h"
#include "rsm/state_machine.h"
#include "rsm_test_util.h"

namespace tri::rsm {
namespace {

using testing::DeleteReq;
using testing::PutReq;

KvOptions Recording() {
  KvOptions options;
  options.watch_events.record = true;
  return options;
}

EventsQuery Query(std::string key, std::string range_end, std::int64_t from, std::int64_t to = 0,
                  std::size_t limit = 0) {
  return EventsQuery{std::move(key), std::move(range_end), from, to, limit};
}

TEST(WatchEvents, PutRecordsTheKeyAndItsPreviousLiveRevision) {
  MvccStore store(Recording());
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());
  ASSERT_TRUE(store.Put(PutReq("a", "2")).ok());
  const TakenEvents taken = store.TakeEvents();
  ASSERT_FALSE(taken.dropped);
  ASSERT_EQ(taken.events.size(), 2u);
  EXPECT_EQ(taken.events[0].type, WatchEvent::PUT);
  EXPECT_EQ(taken.events[0].kv, (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_FALSE(taken.events[0].prev_kv.has_value());
  EXPECT_EQ(taken.events[1].kv, (KeyValue{"a", 2, 3, 2, "2", 0}));
  EXPECT_EQ(taken.events[1].prev_kv, (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_TRUE(store.TakeEvents().events.empty());
}

TEST(WatchEvents, DeleteRecordsATombstoneWithTheDeletesRevisionOnly) {
  MvccStore store(Recording());
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());
  ASSERT_TRUE(store.Put(PutReq("b", "2")).ok());
  (void)store.TakeEvents();
  ASSERT_TRUE(store.DeleteRange(DeleteReq("a", "c")).ok());
  const TakenEvents taken = store.TakeEvents();
  ASSERT_EQ(taken.events.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(taken.events[i].type, WatchEvent::DELETE);
    EXPECT_EQ(taken.events[i].kv.mod_revision, 4);
    EXPECT_EQ(taken.events[i].kv.create_revision, 0);
    EXPECT_EQ(taken.events[i].kv.version, 0);
    EXPECT_EQ(taken.events[i].sub, static_cast<std::int64_t>(i));
  }
  EXPECT_EQ(taken.events[0].kv.key, "a");
  EXPECT_EQ(taken.events[0].prev_kv->value, "1");
  EXPECT_EQ(taken.events[1].kv.key, "b");
}

TEST(WatchEvents, TxnEventsFollowExecutionOrderWithinOneRevision) {
  MvccStore store(Recording());
  TxnRequest txn;
  txn.success.push_back(RequestOp{PutReq("z", "1")});
  txn.success.push_back(RequestOp{PutReq("a", "2")});
  ASSERT_TRUE(store.Txn(txn).ok());
  const TakenEvents taken = store.TakeEvents();
  ASSERT_EQ(taken.events.size(), 2u);
  EXPECT_EQ(taken.events[0].kv.key, "z");
  EXPECT_EQ(taken.events[1].kv.key, "a");
  EXPECT_EQ(taken.events[0].revision(), 2);
  EXPECT_EQ(taken.events[1].revision(), 2);
  // History answers the same order: (revision, sub), not key order.
  auto page = store.Events(Query("a", std::string(1, '\0'), 1));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events, taken.events);
}

TEST(WatchEvents, RequestsThatChangeNothingRecordNothing) {
  MvccStore store(Recording());
  ASSERT_TRUE(store.DeleteRange(DeleteReq("missing")).ok());
  PutRequest bad = PutReq("a", "");
  bad.ignore_value = true;
  EXPECT_FALSE(store.Put(bad).ok());
  TxnRequest txn;
  txn.compare.push_back(testing::ValueIs("a", "x"));  // fails: no key
  txn.failure.push_back(RequestOp{testing::RangeReq("a")});
  ASSERT_TRUE(store.Txn(txn).ok());
  EXPECT_TRUE(store.TakeEvents().events.empty());
  EXPECT_EQ(store.current_revision(), 1);
}

TEST(WatchEvents, HistoryHonoursKeyRangesAndRevisionBounds) {
  MvccStore store(Recording());
  for (const char* key : {"a", "b", "ba", "c"})
    ASSERT_TRUE(store.Put(PutReq(key, "v")).ok());  // revisions 2..5
  auto single = store.Events(Query("b", "", 1));
  ASSERT_TRUE(single.ok());
  ASSERT_EQ(single->events.size(), 1u);
  EXPECT_EQ(single->events[0].kv.key, "b");
  auto prefix = store.Events(Query("b", "c", 1));
  ASSERT_EQ(prefix->events.size(), 2u);
  auto window = store.Events(Query("a", std::string(1, '\0'), 3, 4));
  ASSERT_EQ(window->events.size(), 2u);
  EXPECT_EQ(window->events[0].revision(), 3);
  EXPECT_EQ(window->last_revision, 4);
  auto empty_range = store.Events(Query("c", "a", 1));
  EXPECT_TRUE(empty_range->events.empty());
  EXPECT_EQ(store.Events(Query("a", "", 1, 6)).error(), ErrFutureRev());
}

TEST(WatchEvents, HistoryLimitNeverSplitsARevision) {
  MvccStore store(Recording());
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());  // 2
  TxnRequest txn;                                 // 3: three keys
  for (const char* key : {"b", "c", "d"})
    txn.success.push_back(RequestOp{PutReq(key, "2")});
  ASSERT_TRUE(store.Txn(txn).ok());
  ASSERT_TRUE(store.Put(PutReq("e", "3")).ok());  // 4
  auto page = store.Events(Query("a", std::string(1, '\0'), 1, 0, 2));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 4u);  // revision 3 comes whole
  EXPECT_EQ(page->last_revision, 3);
  auto next = store.Events(Query("a", std::string(1, '\0'), page->last_revision + 1, 0, 2));
  ASSERT_EQ(next->events.size(), 1u);
  EXPECT_EQ(next->last_revision, 4);
  // A byte bound cuts the same way: the first event passes it, its revision comes whole.
  EventsQuery by_bytes = Query("a", std::string(1, '\0'), 1);
  by_bytes.max_bytes = 1;
  auto small = store.Events(by_bytes);
  ASSERT_EQ(small->events.size(), 1u);
  EXPECT_EQ(small->last_revision, 2);
}

TEST(WatchEvents, HistoryRefusesRevisionsBelowTheCompactRevision) {
  MvccStore store(Recording());
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());  // 2
  ASSERT_TRUE(store.Put(PutReq("a", "2")).ok());  // 3
  ASSERT_TRUE(store.Put(PutReq("a", "3")).ok());  // 4
  ASSERT_TRUE(store.Compact(CompactionRequest{3, false}).ok());
  EXPECT_EQ(store.Events(Query("a", "", 2)).error(), ErrCompacted());
  // The compact revision itself is kept (as etcd lets a watch start there); its
  // previous revision is gone, so it has no prev_kv.
  auto page = store.Events(Query("a", "", 3));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].revision(), 3);
  EXPECT_FALSE(page->events[0].prev_kv.has_value());
  EXPECT_EQ(page->events[1].prev_kv->value, "2");
}

TEST(WatchEvents, AStoreThatDoesNotRecordReportsEveryTakeAsDropped) {
  MvccStore store;
  ASSERT_TRUE(store.Put(PutReq("a", "1")).ok());
  const TakenEvents taken = store.TakeEvents();
  EXPECT_TRUE(taken.dropped);
  EXPECT_TRUE(taken.events.empty());
  EXPECT_EQ(store.Events(Query("a", "", 1))->events.size(), 1u);
}

TEST(WatchEvents, AFullBufferDropsEverythingAndSaysSo) {
  KvOptions options = Recording();
  options.watch_events.max_events = 2;
  MvccStore store(options);
  for (const char* key : {"a", "b", "c"})
    ASSERT_TRUE(store.Put(PutReq(key, "v")).ok());
  const TakenEvents taken = store.TakeEvents();
  EXPECT_TRUE(taken.dropped);
  EXPECT_TRUE(taken.events.empty());
  // The flag is reported once; recording resumes after the take.
  ASSERT_TRUE(store.Put(PutReq("d", "v")).ok());
  const TakenEvents after = store.TakeEvents();
  EXPECT_FALSE(after.dropped);
  EXPECT_EQ(after.events.size(), 1u);
}

std::string PutEntry(const std::string& key, const std::string& value) {
  return EncodeCommand(Command{CommandKind::kKv, 1, 0, EncodeKvRequest(PutReq(key, value))});
}

TEST(WatchEvents, StateMachineHandsOverAppliedEventsAndCountsRestores) {
  StateMachine source;
  source.Apply(1, PutEntry("a", "1"));
  StateMachine follower(Recording());
  follower.Apply(1, PutEntry("x", "1"));
  EXPECT_EQ(follower.TakeEvents().events.size(), 1u);
  EXPECT_EQ(follower.restore_epoch(), 0u);
  ASSERT_TRUE(follower.Restore(source.Snapshot()).ok());
  EXPECT_EQ(follower.restore_epoch(), 1u);
  EXPECT_TRUE(follower.TakeEvents().events.empty());
  follower.Apply(2, PutEntry("a", "2"));
  const TakenEvents taken = follower.TakeEvents();
  ASSERT_EQ(taken.events.size(), 1u);
  EXPECT_EQ(taken.events[0].prev_kv->value, "1");
  EXPECT_FALSE(follower.Restore("garbage").ok());
  EXPECT_EQ(follower.restore_epoch(), 1u);
}

bool InRange(const std::string& key, const std::string& begin, const std::string& end) {
  if (end.empty()) return key == begin;
  if (end == std::string(1, '\0')) return key >= begin;
  return key >= begin && key < end;
}

// History == what was recorded live, for any window at or above the compact
// revision, whole or paged, after random puts, deletes, txns and compactions.
RC_GTEST_PROP(WatchEvents, HistoryEqualsTheEventsRecordedLive, ()) {
  MvccStore store(Recording());
  std::vector<WatchEvent> live;
  const int steps = testing::Uniform<int>(1, 100);
  for (int i = 0; i < steps; ++i) {
    const KvRequest request =
        testing::GenRequest({store.current_revision(), store.compact_revision()});
    if (const auto* p = std::get_if<PutRequest>(&request)) {
      (void)store.Put(*p);
    } else if (const auto* d = std::get_if<DeleteRangeRequest>(&request)) {
      (void)store.DeleteRange(*d);
    } else if (const auto* t = std::get_if<TxnRequest>(&request)) {
      (void)store.Txn(*t);
    } else if (const auto* c = std::get_if<CompactionRequest>(&request)) {
      (void)store.Compact(*c);
    }
    TakenEvents taken = store.TakeEvents();
    RC_ASSERT(!taken.dropped);
    for (WatchEvent& e : taken.events) {
      RC_ASSERT(e.revision() == store.current_revision());
      live.push_back(std::move(e));
    }
  }
  const std::int64_t compacted = store.compact_revision();
  const std::int64_t current = store.current_revision();
  const std::string key = testing::GenKey();
  const std::string range_end = testing::GenRangeEnd();
  const std::int64_t from =
      testing::Uniform<std::int64_t>(std::max<std::int64_t>(compacted, 1), current + 2);
  const std::int64_t to = testing::Uniform<std::int64_t>(0, current + 1);
  const std::size_t limit = testing::Uniform<std::size_t>(0, 5);
  const std::size_t max_bytes = testing::Uniform<std::size_t>(0, 300);

  std::vector<WatchEvent> expected;
  for (WatchEvent e : live) {
    if (!InRange(e.kv.key, key, range_end) || e.revision() < from) continue;
    if (to > 0 && e.revision() > to) continue;
    // Compaction keeps each key's last revision at or below the compact revision
    // unless it is a tombstone (etcd's rule): a delete at the compact revision is
    // gone, and so is the write before an event there (no prev_kv, as in etcd).
    if (e.revision() == compacted && e.type == WatchEvent::DELETE) continue;
    if (e.revision() <= compacted) e.prev_kv.reset();
    expected.push_back(std::move(e));
  }
  auto whole = store.Events(EventsQuery{key, range_end, from, to, 0});
  RC_ASSERT(whole.ok());
  RC_ASSERT(whole->events == expected);

  std::vector<WatchEvent> paged;
  const std::int64_t end = to > 0 ? to : current;
  for (std::int64_t next = from; next <= end;) {
    auto page = store.Events(EventsQuery{key, range_end, next, to, limit, max_bytes});
    RC_ASSERT(page.ok());
    RC_ASSERT(page->last_revision >= next);
    paged.insert(paged.end(), page->events.begin(), page->events.end());
    next = page->last_revision + 1;
  }
  RC_ASSERT(paged == expected);
  if (compacted > 1) {
    RC_ASSERT(store.Events(EventsQuery{key, range_end, compacted - 1, 0, 0}).error() ==
              ErrCompacted());
  }
}

}  // namespace
}  // namespace tri::rsm
