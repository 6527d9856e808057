#include "server/watch_hub.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "base/assert.h"
#include "server/etcd_convert.h"

namespace tri::server {
namespace {

// etcd's mvcc errors, word for word (clients match on them).
constexpr const char* kErrEmptyRange = "mvcc: watcher range is empty";
constexpr const char* kErrDuplicateId = "mvcc: duplicate watch ID provided on the WatchStream";
// etcd answers a progress request with this id: it is for every watcher of the stream.
constexpr std::int64_t kProgressWatchId = -1;

bool Unbounded(const std::string& range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

void EventToProto(const rsm::WatchEvent& in, bool with_prev_kv, mvccpb::Event* out) {
  out->set_type(in.type == rsm::WatchEvent::PUT ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  ToProto(in.kv, out->mutable_kv());
  if (with_prev_kv && in.prev_kv) ToProto(*in.prev_kv, out->mutable_prev_kv());
}

}  // namespace

void FillWatchHeader(const WatchHeader& header, std::int64_t revision,
                     etcdserverpb::ResponseHeader* out) {
  out->set_cluster_id(header.cluster_id);
  out->set_member_id(header.member_id);
  out->set_raft_term(header.raft_term);
  out->set_revision(revision);
}

void WatchHub::OpenStream(StreamId id, std::shared_ptr<WatchSink> sink) {
  TRI_ASSERT(sink != nullptr);
  const bool inserted = streams_.emplace(id, Stream{std::move(sink)}).second;
  TRI_ASSERT_MSG(inserted, "watch stream id reused");
}

void WatchHub::CloseStream(StreamId id) {
  streams_.erase(id);
  watchers_.erase(watchers_.lower_bound({id, std::numeric_limits<std::int64_t>::min()}),
                  watchers_.upper_bound({id, std::numeric_limits<std::int64_t>::max()}));
}

void WatchHub::CloseAllStreams() {
  for (auto& [id, stream] : streams_)
    stream.sink->Close();
  streams_.clear();
  watchers_.clear();
}

void WatchHub::Handle(StreamId id, const etcdserverpb::WatchRequest& request,
                      const rsm::StateMachine& state, const WatchHeader& header) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;  // closed meanwhile
  switch (request.request_union_case()) {
    case etcdserverpb::WatchRequest::kCreateRequest:
      Create(id, it->second, request.create_request(), state, header);
      break;
    case etcdserverpb::WatchRequest::kCancelRequest:
      Cancel(id, request.cancel_request().watch_id(), state, header);
      break;
    case etcdserverpb::WatchRequest::kProgressRequest:
      it->second.progress_requested = true;
      AnswerProgressRequests(state.store().current_revision(), header);
      break;
    case etcdserverpb::WatchRequest::REQUEST_UNION_NOT_SET:
      break;  // etcd ignores an empty request too
  }
}

void WatchHub::Create(StreamId id, Stream& stream, const etcdserverpb::WatchCreateRequest& request,
                      const rsm::StateMachine& state, const WatchHeader& header) {
  const std::int64_t current = state.store().current_revision();
  etcdserverpb::WatchResponse response;
  FillWatchHeader(header, current, response.mutable_header());
  response.set_created(true);
  const auto refuse = [&](const std::string& reason) {
    response.set_watch_id(-1);
    response.set_canceled(true);
    response.set_cancel_reason(reason);
    stream.sink->Send(std::move(response), true);
  };

  Watcher w;
  // etcd: an empty key is the smallest key, "\0".
  w.key = request.key().empty() ? std::string(1, '\0') : request.key();
  w.range_end = request.range_end();
  if (!w.range_end.empty() && !Unbounded(w.range_end) && !(w.key < w.range_end)) {
    return refuse(kErrEmptyRange);
  }
  std::int64_t watch_id = request.watch_id();
  if (watch_id == 0) {  // etcd's AutoWatchID: the stream's next free id
    while (watchers_.count({id, stream.next_auto_id}) > 0)
      ++stream.next_auto_id;
    watch_id = stream.next_auto_id++;
  } else if (watchers_.count({id, watch_id}) > 0) {
    return refuse(kErrDuplicateId);
  }
  if (watchers_.size() >= options_.max_watchers) {
    return refuse("trinity: too many watchers on this member (the bound is " +
                  std::to_string(options_.max_watchers) + ", --max-watchers)");
  }
  w.next_revision = request.start_revision() == 0 ? current + 1 : request.start_revision();
  w.start_revision = w.next_revision;
  w.synced = w.next_revision > current;
  if (!w.synced) catching_up_ = true;
  w.prev_kv = request.prev_kv();
  w.fragment = request.fragment();
  w.progress_notify = request.progress_notify();
  for (const int filter : request.filters()) {
    if (filter == etcdserverpb::WatchCreateRequest::NOPUT) w.no_put = true;
    if (filter == etcdserverpb::WatchCreateRequest::NODELETE) w.no_delete = true;
  }
  watchers_.emplace(WatcherKey{id, watch_id}, std::move(w));
  response.set_watch_id(watch_id);
  stream.sink->Send(std::move(response), true);
}

void WatchHub::Cancel(StreamId id, std::int64_t watch_id, const rsm::StateMachine& state,
                      const WatchHeader& header) {
  auto it = watchers_.find({id, watch_id});
  if (it == watchers_.end()) return;  // etcd answers nothing for an unknown id
  watchers_.erase(it);
  etcdserverpb::WatchResponse response;
  FillWatchHeader(header, state.store().current_revision(), response.mutable_header());
  response.set_watch_id(watch_id);
  response.set_canceled(true);
  streams_.at(id).sink->Send(std::move(response), true);
  // The stream may be waiting for this watcher to catch up before a progress answer.
  AnswerProgressRequests(state.store().current_revision(), header);
}

void WatchHub::AfterRound(rsm::StateMachine& state, const WatchHeader& header,
                          std::uint64_t now_ms) {
  const std::int64_t current = state.store().current_revision();
  rsm::TakenEvents taken = state.TakeEvents();
  if (state.restore_epoch() != seen_restore_epoch_ || taken.dropped) {
    // Live events may be missing: every watcher reads on from history.
    seen_restore_epoch_ = state.restore_epoch();
    Desync();
  } else {
    FanOut(taken.events, header, current);
  }
  CatchUp(state, header);
  AnswerProgressRequests(current, header);
  NotifyProgress(current, header, now_ms);
}

void WatchHub::Desync() {
  for (auto& [key, w] : watchers_)
    w.synced = false;
}

bool WatchHub::Matches(const Watcher& w, const rsm::WatchEvent& event) {
  if (event.type == rsm::WatchEvent::PUT ? w.no_put : w.no_delete) return false;
  const std::string& key = event.kv.key;
  if (w.range_end.empty()) return key == w.key;
  if (Unbounded(w.range_end)) return key >= w.key;
  return key >= w.key && key < w.range_end;
}

void WatchHub::FanOut(const std::vector<rsm::WatchEvent>& events, const WatchHeader& header,
                      std::int64_t current_revision) {
  // Events come in (revision, sub) order; each watcher gets one response per
  // revision that has events for it, as etcd notifies per write txn.
  std::vector<std::pair<std::size_t, std::size_t>> revisions;  // [begin, end) per revision
  for (std::size_t i = 0; i < events.size();) {
    std::size_t j = i + 1;
    while (j < events.size() && events[j].revision() == events[i].revision())
      ++j;
    TRI_ASSERT(revisions.empty() ||
               events[i].revision() > events[revisions.back().first].revision());
    revisions.emplace_back(i, j);
    i = j;
  }
  TRI_ASSERT(events.empty() || events.back().revision() <= current_revision);
  std::vector<WatcherKey> slow;
  std::vector<const rsm::WatchEvent*> batch;
  for (auto& [key, w] : watchers_) {
    if (!w.synced) continue;
    bool refused = false;
    for (const auto& [begin, end] : revisions) {
      const std::int64_t revision = events[begin].revision();
      if (revision < w.next_revision) continue;
      batch.clear();
      for (std::size_t i = begin; i < end; ++i) {
        if (Matches(w, events[i])) batch.push_back(&events[i]);
      }
      if (!batch.empty() && !SendEvents(key, w, batch, revision, header)) {
        refused = true;
        break;
      }
      w.next_revision = revision + 1;
    }
    if (refused) {
      slow.push_back(key);
    } else {
      w.next_revision = std::max(w.next_revision, current_revision + 1);
    }
  }
  for (const WatcherKey& key : slow) {
    auto it = watchers_.find(key);
    CancelSlow(key, it->second, current_revision, header);
    watchers_.erase(it);
  }
}

void WatchHub::CatchUp(const rsm::StateMachine& state, const WatchHeader& header) {
  catching_up_ = false;
  if (watchers_.empty()) return;
  const rsm::MvccStore& store = state.store();
  const std::int64_t current = store.current_revision();
  std::size_t budget = options_.catchup_chunks_per_round;
  std::vector<const rsm::WatchEvent*> batch;
  // One pass over every watcher, starting where the last pass ran out of budget.
  auto it = watchers_.lower_bound(catchup_cursor_);
  for (std::size_t visited = 0, total = watchers_.size(); visited < total; ++visited) {
    if (it == watchers_.end()) it = watchers_.begin();
    Watcher& w = it->second;
    const WatcherKey key = it->first;
    if (w.synced) {
      ++it;
      continue;
    }
    if (w.next_revision > current) {  // nothing to read: joins the live events
      w.synced = true;
      ++it;
      continue;
    }
    const Stream& stream = streams_.at(key.first);
    if (!stream.sink->HasRoom()) {
      ++it;
      continue;
    }
    if (budget == 0) {
      catchup_cursor_ = key;
      catching_up_ = true;
      return;
    }
    --budget;
    const std::int64_t to =
        std::min(current, w.next_revision + options_.catchup_revisions_per_chunk - 1);
    auto page = store.Events(rsm::EventsQuery{w.key, w.range_end, w.next_revision, to,
                                              options_.catchup_events_per_chunk,
                                              options_.catchup_bytes_per_chunk});
    const bool lost_deletes =
        w.next_revision != w.start_revision && w.next_revision <= store.compact_revision();
    if (!page.ok() || lost_deletes) {
      // Compacted (etcd's answer: the compact revision, cancelled, header revision 0).
      TRI_ASSERT(lost_deletes || page.error() == rsm::ErrCompacted());
      etcdserverpb::WatchResponse response;
      FillWatchHeader(header, 0, response.mutable_header());
      response.set_watch_id(key.second);
      response.set_compact_revision(store.compact_revision());
      response.set_canceled(true);
      stream.sink->Send(std::move(response), true);
      it = watchers_.erase(it);
      continue;
    }
    batch.clear();
    for (const rsm::WatchEvent& e : page->events) {
      if (Matches(w, e)) batch.push_back(&e);
    }
    if (!batch.empty() && !SendEvents(key, w, batch, current, header)) {
      CancelSlow(key, w, current, header);
      it = watchers_.erase(it);
      continue;
    }
    TRI_ASSERT(page->last_revision >= w.next_revision);
    w.next_revision = page->last_revision + 1;
    w.synced = w.next_revision > current;
    if (!w.synced) catching_up_ = true;
    ++it;
  }
  catchup_cursor_ = {0, 0};
}

bool WatchHub::SendEvents(const WatcherKey& key, Watcher& w,
                          const std::vector<const rsm::WatchEvent*>& events,
                          std::int64_t header_revision, const WatchHeader& header) {
  TRI_ASSERT(!events.empty());
  WatchSink& sink = *streams_.at(key.first).sink;
  etcdserverpb::WatchResponse response;
  FillWatchHeader(header, header_revision, response.mutable_header());
  response.set_watch_id(key.second);
  for (const rsm::WatchEvent* e : events)
    EventToProto(*e, w.prev_kv, response.add_events());
  w.sent_since_progress = true;
  // etcd's sendFragments: split only when asked, too large and more than one event.
  if (!w.fragment || response.events_size() < 2 ||
      response.ByteSizeLong() < options_.max_response_bytes) {
    return sink.Send(std::move(response), false);
  }
  etcdserverpb::WatchResponse all = std::move(response);
  int next = 0;
  while (next < all.events_size()) {
    etcdserverpb::WatchResponse part;
    *part.mutable_header() = all.header();
    part.set_watch_id(all.watch_id());
    part.set_fragment(true);
    while (next < all.events_size()) {
      *part.add_events() = all.events(next);
      if (part.events_size() > 1 && part.ByteSizeLong() >= options_.max_response_bytes) {
        part.mutable_events()->RemoveLast();
        break;
      }
      ++next;
    }
    if (next == all.events_size()) part.set_fragment(false);
    if (!sink.Send(std::move(part), false)) return false;
  }
  return true;
}

void WatchHub::CancelSlow(const WatcherKey& key, const Watcher& w, std::int64_t current_revision,
                          const WatchHeader& header) {
  ++slow_cancels_;
  etcdserverpb::WatchResponse response;
  FillWatchHeader(header, current_revision, response.mutable_header());
  response.set_watch_id(key.second);
  response.set_canceled(true);
  response.set_cancel_reason(
      "trinity: watcher cancelled: the client reads too slowly (its stream's send buffer is "
      "full); watch again from revision " +
      std::to_string(w.next_revision));
  streams_.at(key.first).sink->Send(std::move(response), true);
}

void WatchHub::AnswerProgressRequests(std::int64_t current_revision, const WatchHeader& header) {
  for (auto& [id, stream] : streams_) {
    if (!stream.progress_requested) continue;
    // Only once every watcher of the stream has seen everything up to the
    // revision announced (etcd 3.5 waits the same way; 3.4 could announce early).
    bool all_synced = true;
    for (auto it = watchers_.lower_bound({id, std::numeric_limits<std::int64_t>::min()});
         it != watchers_.end() && it->first.first == id; ++it) {
      all_synced = all_synced && it->second.synced;
    }
    if (!all_synced) continue;
    stream.progress_requested = false;
    etcdserverpb::WatchResponse response;
    FillWatchHeader(header, current_revision, response.mutable_header());
    response.set_watch_id(kProgressWatchId);
    stream.sink->Send(std::move(response), true);
  }
}

void WatchHub::NotifyProgress(std::int64_t current_revision, const WatchHeader& header,
                              std::uint64_t now_ms) {
  if (next_progress_ms_ == 0) {
    next_progress_ms_ = now_ms + options_.progress_notify_interval_ms;
    return;
  }
  if (now_ms < next_progress_ms_) return;
  next_progress_ms_ = now_ms + options_.progress_notify_interval_ms;
  for (auto& [key, w] : watchers_) {
    // etcd notifies the watchers that had no events in the interval.
    if (w.progress_notify && w.synced && !w.sent_since_progress) {
      etcdserverpb::WatchResponse response;
      FillWatchHeader(header, current_revision, response.mutable_header());
      response.set_watch_id(key.second);
      streams_.at(key.first).sink->Send(std::move(response), false);
    }
    w.sent_since_progress = false;
  }
}

}  // namespace tri::server
