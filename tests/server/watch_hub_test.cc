// WatchHub on a real state machine with a recording sink: etcd's answers and
// the delivery rule (every event of every revision once, in order).

#include "server/watch_hub.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rsm/command.h"
#include "rsm/kv_codec.h"

namespace tri::server {
namespace {

class RecordingSink final : public WatchSink {
 public:
  bool Send(etcdserverpb::WatchResponse response, bool control) override {
    if (!control && room_ == 0) return false;
    if (!control && room_ > 0) --room_;
    responses.push_back(std::move(response));
    return true;
  }
  bool HasRoom() const override { return room_ != 0; }
  void Close() override { closed = true; }
  // Event responses it still takes; negative: unbounded.
  void set_room(int room) { room_ = room; }

  std::vector<etcdserverpb::WatchResponse> responses;
  bool closed = false;

 private:
  int room_ = -1;
};

const WatchHeader kHeader{7, 8, 9};

class WatchHubTest : public ::testing::Test {
 protected:
  static rsm::KvOptions Recording(rsm::KvOptions kv = {}) {
    kv.watch_events.record = true;
    return kv;
  }
  explicit WatchHubTest(WatchHubOptions options = {}, rsm::KvOptions kv = Recording())
      : hub_(options), state_(kv) {
    hub_.OpenStream(1, sink_);
  }

  void Put(const std::string& key, const std::string& value) { Apply(PutRequest(key, value)); }
  void Delete(const std::string& key, const std::string& range_end = "") {
    rsm::DeleteRangeRequest r;
    r.key = key;
    r.range_end = range_end;
    Apply(r);
  }
  void Apply(const rsm::KvRequest& request) {
    state_.Apply(++index_, rsm::EncodeCommand(rsm::Command{rsm::CommandKind::kKv, index_, 0,
                                                           rsm::EncodeKvRequest(request)}));
  }
  static rsm::PutRequest PutRequest(const std::string& key, const std::string& value) {
    rsm::PutRequest r;
    r.key = key;
    r.value = value;
    return r;
  }

  void Create(const std::string& key, const std::string& range_end = "", std::int64_t start = 0,
              std::int64_t watch_id = 0, bool prev_kv = false) {
    etcdserverpb::WatchRequest request;
    auto* create = request.mutable_create_request();
    create->set_key(key);
    create->set_range_end(range_end);
    create->set_start_revision(start);
    create->set_watch_id(watch_id);
    create->set_prev_kv(prev_kv);
    Handle(request);
  }
  void Handle(const etcdserverpb::WatchRequest& request, WatchHub::StreamId stream = 1) {
    hub_.Handle(stream, request, state_, kHeader);
  }
  void Round(std::uint64_t now_ms = 1) { hub_.AfterRound(state_, kHeader, now_ms); }
  // Rounds until no watcher is catching up (bounded).
  void Settle() {
    for (int i = 0; i < 1000; ++i) {
      Round();
      if (!hub_.catching_up()) return;
    }
    FAIL() << "the hub never caught up";
  }

  // "PUT key value@revision" / "DELETE key@revision" of every event sent.
  std::vector<std::string> Events(std::int64_t watch_id = -2) const {
    std::vector<std::string> out;
    for (const auto& r : sink_->responses) {
      if (watch_id != -2 && r.watch_id() != watch_id) continue;
      for (const auto& e : r.events()) {
        std::string line = e.type() == mvccpb::Event::PUT ? "PUT " : "DELETE ";
        line += e.kv().key();
        if (e.type() == mvccpb::Event::PUT) line += " " + e.kv().value();
        line += "@" + std::to_string(e.kv().mod_revision());
        if (e.has_prev_kv()) line += " prev=" + e.prev_kv().value();
        out.push_back(line);
      }
    }
    return out;
  }

  WatchHub hub_;
  rsm::StateMachine state_;
  std::shared_ptr<RecordingSink> sink_ = std::make_shared<RecordingSink>();
  std::uint64_t index_ = 0;
};

TEST_F(WatchHubTest, CreatedComesFirstThenOneResponsePerRevision) {
  Put("a", "0");  // revision 2: before the watch
  Create("a", "b");
  ASSERT_EQ(sink_->responses.size(), 1u);
  const auto& created = sink_->responses[0];
  EXPECT_TRUE(created.created());
  EXPECT_FALSE(created.canceled());
  EXPECT_EQ(created.watch_id(), 0);
  EXPECT_EQ(created.header().revision(), 2);
  EXPECT_EQ(created.header().cluster_id(), 7u);
  EXPECT_EQ(created.header().member_id(), 8u);
  EXPECT_EQ(created.header().raft_term(), 9u);
  Put("a", "1");
  Put("zz", "x");
  rsm::TxnRequest txn;
  txn.success.push_back(rsm::RequestOp{PutRequest("a", "2")});
  txn.success.push_back(rsm::RequestOp{PutRequest("ab", "3")});
  Apply(txn);
  Round();
  EXPECT_EQ(Events(), (std::vector<std::string>{"PUT a 1@3", "PUT a 2@5", "PUT ab 3@5"}));
  ASSERT_EQ(sink_->responses.size(), 3u);
  EXPECT_EQ(sink_->responses[1].header().revision(), 3);
  EXPECT_EQ(sink_->responses[2].events_size(), 2);
  EXPECT_EQ(sink_->responses[2].header().revision(), 5);
}

TEST_F(WatchHubTest, HistoryThenLiveWithoutGapOrDuplicate) {
  for (int i = 0; i < 30; ++i)
    Put("k" + std::to_string(i % 3), std::to_string(i));  // revisions 2..31
  hub_ = WatchHub(WatchHubOptions{.catchup_events_per_chunk = 4,
                                  .catchup_revisions_per_chunk = 5,
                                  .catchup_chunks_per_round = 1});
  hub_.OpenStream(1, sink_);
  Create("k", std::string(1, '\0'), 2);
  for (int i = 30; i < 60; ++i) {  // writes go on while it catches up
    Put("k" + std::to_string(i % 3), std::to_string(i));
    Round();
  }
  Settle();
  Put("k0", "last");
  Round();
  const std::vector<std::string> events = Events();
  ASSERT_EQ(events.size(), 61u);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(events[i], "PUT k" + std::to_string(i % 3) + " " + std::to_string(i) + "@" +
                             std::to_string(i + 2));
  }
}

TEST_F(WatchHubTest, AStartBelowTheCompactRevisionIsCancelledWithIt) {
  Put("a", "1");
  Put("a", "2");
  Put("a", "3");
  Apply(rsm::CompactionRequest{3, false});
  Create("a", "", 2);
  Round();
  ASSERT_EQ(sink_->responses.size(), 2u);
  const auto& compacted = sink_->responses[1];
  EXPECT_TRUE(compacted.canceled());
  EXPECT_EQ(compacted.compact_revision(), 3);
  EXPECT_EQ(compacted.watch_id(), 0);
  EXPECT_EQ(hub_.watcher_count(), 0u);
  // At the compact revision itself: what is kept there.
  Create("a", "", 3);
  Round();
  EXPECT_EQ(Events(1), (std::vector<std::string>{"PUT a 2@3", "PUT a 3@4"}));
}

TEST_F(WatchHubTest, ALaggingWatcherCompactedAtItsNextRevisionIsCancelled) {
  Put("a", "1");  // 2
  hub_ = WatchHub(WatchHubOptions{.catchup_events_per_chunk = 1, .catchup_chunks_per_round = 1});
  hub_.OpenStream(1, sink_);
  Create("a", "", 2);
  Put("a", "2");  // 3
  Delete("a");    // 4
  Round();        // one event a round: revision 2, then 3; next is 4
  Round();
  EXPECT_EQ(Events(), (std::vector<std::string>{"PUT a 1@2", "PUT a 2@3"}));
  Apply(rsm::CompactionRequest{4, false});  // the delete at 4 is gone from history
  Round();
  const auto& last = sink_->responses.back();
  EXPECT_TRUE(last.canceled());
  EXPECT_EQ(last.compact_revision(), 4);
  EXPECT_EQ(hub_.watcher_count(), 0u);
}

TEST_F(WatchHubTest, WatchIdsAreAutoOrChosenAndATakenOneIsRefusedLikeEtcd) {
  Create("a", "", 0, 1);  // chosen: 1
  Create("a");            // auto: 0
  Create("a");            // auto: 1 is taken, so 2
  Create("a", "", 0, 2);  // taken
  ASSERT_EQ(sink_->responses.size(), 4u);
  EXPECT_EQ(sink_->responses[0].watch_id(), 1);
  EXPECT_EQ(sink_->responses[1].watch_id(), 0);
  EXPECT_EQ(sink_->responses[2].watch_id(), 2);
  const auto& refused = sink_->responses[3];
  EXPECT_TRUE(refused.created());
  EXPECT_TRUE(refused.canceled());
  EXPECT_EQ(refused.watch_id(), -1);
  EXPECT_EQ(refused.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");
  Create("b", "a");
  EXPECT_EQ(sink_->responses.back().cancel_reason(), "mvcc: watcher range is empty");
  EXPECT_EQ(hub_.watcher_count(), 3u);
}

TEST_F(WatchHubTest, CancelAnswersOnceAndStopsEvents) {
  Create("a");
  etcdserverpb::WatchRequest cancel;
  cancel.mutable_cancel_request()->set_watch_id(0);
  Handle(cancel);
  ASSERT_EQ(sink_->responses.size(), 2u);
  EXPECT_TRUE(sink_->responses[1].canceled());
  EXPECT_EQ(sink_->responses[1].watch_id(), 0);
  Handle(cancel);  // unknown now: etcd answers nothing
  Put("a", "1");
  Round();
  EXPECT_EQ(sink_->responses.size(), 2u);
}

TEST_F(WatchHubTest, FiltersAndPrevKvShapeTheEvents) {
  Put("a", "1");
  etcdserverpb::WatchRequest request;
  auto* create = request.mutable_create_request();
  create->set_key("a");
  create->set_prev_kv(true);
  create->add_filters(etcdserverpb::WatchCreateRequest::NOPUT);
  Handle(request);
  Create("a");  // no filter, no prev_kv
  Put("a", "2");
  Delete("a");
  Round();
  EXPECT_EQ(Events(0), (std::vector<std::string>{"DELETE a@4 prev=2"}));
  EXPECT_EQ(Events(1), (std::vector<std::string>{"PUT a 2@3", "DELETE a@4"}));
}

TEST_F(WatchHubTest, ASlowStreamGetsItsWatcherCancelledWithAReason) {
  Create("a");
  sink_->set_room(1);
  Put("a", "1");
  Put("a", "2");
  Round();
  ASSERT_EQ(sink_->responses.size(), 3u);
  EXPECT_EQ(sink_->responses[1].events_size(), 1);
  const auto& cancelled = sink_->responses[2];
  EXPECT_TRUE(cancelled.canceled());
  EXPECT_NE(cancelled.cancel_reason().find("watch again from revision 3"), std::string::npos)
      << cancelled.cancel_reason();
  EXPECT_EQ(hub_.watcher_count(), 0u);
  EXPECT_EQ(hub_.slow_cancels(), 1u);
}

TEST_F(WatchHubTest, CatchUpWaitsForRoomInsteadOfCancelling) {
  Put("a", "1");
  sink_->set_room(0);
  Create("a", "", 1);
  Round();
  EXPECT_FALSE(hub_.catching_up());
  EXPECT_EQ(hub_.watcher_count(), 1u);
  sink_->set_room(-1);
  Settle();
  EXPECT_EQ(Events(), (std::vector<std::string>{"PUT a 1@2"}));
}

TEST_F(WatchHubTest, ProgressRequestAnswersOnceEveryWatcherIsSynced) {
  for (int i = 0; i < 20; ++i)
    Put("a", std::to_string(i));
  hub_ = WatchHub(WatchHubOptions{.catchup_events_per_chunk = 2, .catchup_chunks_per_round = 1});
  hub_.OpenStream(1, sink_);
  Create("a", "", 1);
  etcdserverpb::WatchRequest progress;
  progress.mutable_progress_request();
  Handle(progress);
  EXPECT_EQ(sink_->responses.size(), 1u);  // only "created": the watcher is behind
  Settle();
  const auto& answer = sink_->responses.back();
  EXPECT_EQ(answer.watch_id(), -1);
  EXPECT_EQ(answer.events_size(), 0);
  EXPECT_EQ(answer.header().revision(), 21);
  EXPECT_EQ(Events().size(), 20u);
}

TEST_F(WatchHubTest, ProgressNotifyGoesToIdleWatchersEachInterval) {
  hub_ = WatchHub(WatchHubOptions{.progress_notify_interval_ms = 1000});
  hub_.OpenStream(1, sink_);
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_key("a");
  request.mutable_create_request()->set_progress_notify(true);
  Handle(request);
  Round(100);  // starts the interval
  Round(900);
  EXPECT_EQ(sink_->responses.size(), 1u);
  Put("a", "1");
  Round(1100);  // had an event in this interval: no notification
  EXPECT_EQ(sink_->responses.size(), 2u);
  Round(2200);
  ASSERT_EQ(sink_->responses.size(), 3u);
  EXPECT_EQ(sink_->responses[2].watch_id(), 0);
  EXPECT_EQ(sink_->responses[2].events_size(), 0);
  EXPECT_EQ(sink_->responses[2].header().revision(), 2);
}

TEST_F(WatchHubTest, LargeResponsesAreFragmentedWhenAsked) {
  hub_ = WatchHub(WatchHubOptions{.max_response_bytes = 200});
  hub_.OpenStream(1, sink_);
  etcdserverpb::WatchRequest request;
  request.mutable_create_request()->set_key("k");
  request.mutable_create_request()->set_range_end("l");
  request.mutable_create_request()->set_fragment(true);
  Handle(request);
  rsm::TxnRequest txn;
  for (int i = 0; i < 6; ++i)
    txn.success.push_back(
        rsm::RequestOp{PutRequest("k" + std::to_string(i), std::string(60, 'v'))});
  Apply(txn);
  Round();
  ASSERT_GT(sink_->responses.size(), 2u);
  int events = 0;
  for (std::size_t i = 1; i < sink_->responses.size(); ++i) {
    const auto& r = sink_->responses[i];
    EXPECT_EQ(r.fragment(), i + 1 < sink_->responses.size());
    events += r.events_size();
  }
  EXPECT_EQ(events, 6);
}

TEST_F(WatchHubTest, TheWatcherBoundRefusesCreates) {
  hub_ = WatchHub(WatchHubOptions{.max_watchers = 1});
  hub_.OpenStream(1, sink_);
  Create("a");
  Create("b");
  EXPECT_TRUE(sink_->responses.back().canceled());
  EXPECT_NE(sink_->responses.back().cancel_reason().find("too many watchers"), std::string::npos);
  hub_.CloseStream(1);
  EXPECT_EQ(hub_.watcher_count(), 0u);
  EXPECT_FALSE(sink_->closed);  // the client went away: nothing to tell it
}

TEST_F(WatchHubTest, AStoppingMemberClosesEveryStream) {
  Create("a");
  hub_.CloseAllStreams();
  EXPECT_TRUE(sink_->closed);
  EXPECT_EQ(hub_.watcher_count(), 0u);
  EXPECT_EQ(hub_.stream_count(), 0u);
  Put("a", "1");
  Round();
  EXPECT_EQ(sink_->responses.size(), 1u);  // only "created"
}

class WatchHubOverflowTest : public WatchHubTest {
 protected:
  static rsm::KvOptions SmallBuffer() {
    rsm::KvOptions kv = Recording();
    kv.watch_events.max_events = 2;
    return kv;
  }
  WatchHubOverflowTest() : WatchHubTest({}, SmallBuffer()) {}
};

TEST_F(WatchHubOverflowTest, AnOverflowedEventBufferIsFilledInFromHistory) {
  Create("a", "b");
  for (int i = 0; i < 5; ++i)
    Put("a", std::to_string(i));  // more than the buffer holds in one round
  Settle();
  EXPECT_EQ(Events(), (std::vector<std::string>{"PUT a 0@2", "PUT a 1@3", "PUT a 2@4", "PUT a 3@5",
                                                "PUT a 4@6"}));
}

TEST_F(WatchHubTest, ARestoredStateIsServedFromHistory) {
  Create("a");
  Round();
  rsm::StateMachine leader;  // records nothing: only its snapshot matters
  std::uint64_t index = 0;
  for (int i = 0; i < 3; ++i) {
    leader.Apply(++index, rsm::EncodeCommand(rsm::Command{
                              rsm::CommandKind::kKv, index, 0,
                              rsm::EncodeKvRequest(PutRequest("a", std::to_string(i)))}));
  }
  ASSERT_TRUE(state_.Restore(leader.Snapshot()).ok());
  Settle();
  EXPECT_EQ(Events(), (std::vector<std::string>{"PUT a 0@2", "PUT a 1@3", "PUT a 2@4"}));
}

}  // namespace
}  // namespace tri::server
