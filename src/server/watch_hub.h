#pragma once

// WatchHub: etcd v3.4's Watch semantics on one node (docs/coordination.md,
// "Watches"). It lives on the node's loop thread and is driven from there only:
// requests arrive through Handle (posted by the gRPC stream), and AfterRound,
// called after every loop round, fans the events the state machine applied out
// to the watchers and moves lagging watchers forward from history. Responses
// leave through each stream's WatchSink, which the gRPC side drains.
//
// Delivery: every watcher sees every event of [start_revision, ...) on its keys
// exactly once, in (revision, sub) order. A watcher is either synced (it has
// seen everything up to the store's current revision and takes live events) or
// unsynced (it reads history, in bounded chunks per round, until it catches up).
// Whenever live events may be missing (the event buffer overflowed, or a
// snapshot replaced the state) every synced watcher becomes unsynced at the
// revision it had reached, so the history fills the gap.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "etcdserverpb/rpc.pb.h"
#include "rsm/state_machine.h"

namespace tri::server {

// One client stream's outgoing queue (thread-safe on the gRPC side).
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  // Queues a response. An event response is refused (false, nothing queued) when
  // the stream's buffer is over its bound; `control` responses (created,
  // cancelled, progress) are always queued: there are at most a few per watcher.
  virtual bool Send(etcdserverpb::WatchResponse response, bool control) = 0;
  // Whether the buffer has room for history now (catch-up waits rather than
  // overflowing a slow client).
  virtual bool HasRoom() const = 0;
  // Ends the stream (the member is stopping): what is queued is dropped and the
  // client sees UNAVAILABLE, so it goes on with another member.
  virtual void Close() = 0;
};

// The parts of the response header that are the node's, not the store's.
struct WatchHeader {
  std::uint64_t cluster_id = 0;
  std::uint64_t member_id = 0;
  std::uint64_t raft_term = 0;
};

struct WatchHubOptions {
  // Watchers on this node, all streams together; a create past it is refused.
  std::size_t max_watchers = 100000;
  // One history read: at most about this many events and bytes (a revision is
  // never split) over at most this many revisions.
  std::size_t catchup_events_per_chunk = 1000;
  std::int64_t catchup_revisions_per_chunk = 10000;
  std::size_t catchup_bytes_per_chunk = std::size_t{4} << 20;
  // History reads per round, all watchers together (bounds the loop's pause).
  std::size_t catchup_chunks_per_round = 64;
  // etcd sends a progress notification to an idle progress_notify watcher every
  // 10 minutes.
  std::uint64_t progress_notify_interval_ms = 10 * 60 * 1000;
  // A response larger than this is split into fragments when the watcher asked
  // for them (etcd uses --max-request-bytes).
  std::size_t max_response_bytes = 1536 * 1024;
};

class WatchHub {
 public:
  using StreamId = std::uint64_t;

  explicit WatchHub(WatchHubOptions options = {}) : options_(options) {}

  // A new client stream; `id` is the caller's, unique per hub.
  void OpenStream(StreamId id, std::shared_ptr<WatchSink> sink);
  // Drops the stream and its watchers (the client is gone).
  void CloseStream(StreamId id);
  // Ends every stream (WatchSink::Close) and forgets them: the member stops.
  void CloseAllStreams();

  // One request of a stream: create, cancel or progress (etcd's answers,
  // including its errors for a taken watch id or an empty range).
  void Handle(StreamId stream, const etcdserverpb::WatchRequest& request,
              const rsm::StateMachine& state, const WatchHeader& header);

  // After a loop round: takes the applied events from `state`, hands them to the
  // synced watchers, moves unsynced ones forward from history, sends due
  // progress notifications. `now_ms` is only used for progress intervals.
  void AfterRound(rsm::StateMachine& state, const WatchHeader& header, std::uint64_t now_ms);

  // True while an unsynced watcher could make progress now: the loop should run
  // another round at once instead of waiting for its tick. O(1): what the last
  // round left (a watcher waiting for room in its stream does not count).
  bool catching_up() const { return catching_up_; }
  std::size_t watcher_count() const { return watchers_.size(); }
  std::size_t stream_count() const { return streams_.size(); }
  // Watchers cancelled because their client read too slowly, since the start.
  std::uint64_t slow_cancels() const { return slow_cancels_; }

 private:
  struct Watcher {
    std::string key;
    std::string range_end;       // etcd's rules: empty = one key, "\0" = to the end
    std::int64_t next_revision;  // every event below it has been delivered
    // The revision the client asked to start at. Starting exactly at the compact
    // revision is allowed there (etcd); anywhere else a next revision at or below
    // the compact revision counts as compacted, since the deletes of the compact
    // revision itself are gone and a lagging watcher must not skip them silently.
    std::int64_t start_revision;
    bool synced = false;
    bool prev_kv = false;
    bool fragment = false;
    bool progress_notify = false;
    bool no_put = false;
    bool no_delete = false;
    bool sent_since_progress = false;
  };
  using WatcherKey = std::pair<StreamId, std::int64_t>;  // (stream, watch id)

  struct Stream {
    std::shared_ptr<WatchSink> sink;
    std::int64_t next_auto_id = 0;
    bool progress_requested = false;  // answered once all its watchers are synced
  };

  void Create(StreamId id, Stream& stream, const etcdserverpb::WatchCreateRequest& request,
              const rsm::StateMachine& state, const WatchHeader& header);
  void Cancel(StreamId id, std::int64_t watch_id, const rsm::StateMachine& state,
              const WatchHeader& header);
  void Desync();
  void FanOut(const std::vector<rsm::WatchEvent>& events, const WatchHeader& header,
              std::int64_t current_revision);
  void CatchUp(const rsm::StateMachine& state, const WatchHeader& header);
  void AnswerProgressRequests(std::int64_t current_revision, const WatchHeader& header);
  void NotifyProgress(std::int64_t current_revision, const WatchHeader& header,
                      std::uint64_t now_ms);
  // Sends events to a watcher (fragmented when asked and large). False when the
  // stream refused them: the watcher is then cancelled as too slow.
  bool SendEvents(const WatcherKey& key, Watcher& watcher,
                  const std::vector<const rsm::WatchEvent*>& events, std::int64_t header_revision,
                  const WatchHeader& header);
  void CancelSlow(const WatcherKey& key, const Watcher& watcher, std::int64_t current_revision,
                  const WatchHeader& header);
  static bool Matches(const Watcher& watcher, const rsm::WatchEvent& event);

  WatchHubOptions options_;
  std::map<StreamId, Stream> streams_;
  std::map<WatcherKey, Watcher> watchers_;
  std::uint64_t seen_restore_epoch_ = 0;
  std::uint64_t next_progress_ms_ = 0;  // 0: not started
  WatcherKey catchup_cursor_{0, 0};     // round-robin start of the next catch-up pass
  bool catching_up_ = false;
  std::uint64_t slow_cancels_ = 0;
};

// etcd's response header for a revision.
void FillWatchHeader(const WatchHeader& header, std::int64_t revision,
                     etcdserverpb::ResponseHeader* out);

}  // namespace tri::server
